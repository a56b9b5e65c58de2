"""The JSON-RPC 2.0 envelope: parsing, request validation, batches, notifications.

Per-item answers for batches (`[1]`, `[1, 2, 3]` and mixed batches included),
-32600 with `id: null` for anything that is not a request, and a body that is
always RFC 8259 JSON.
"""

from __future__ import annotations

import asyncio
import json
import math
from time import perf_counter
from typing import Any

from wallet_rpc.errors import InvalidRequest, ParseError, WalletRpcError
from wallet_rpc.methods import CallContext
from wallet_rpc.rpc.dispatch import Dispatcher
from wallet_rpc.rpc.observe import INVALID_METHOD, OK, CallObserver


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


# One decoder for every request: json.loads with hooks builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(body: bytes) -> Any:
    """Strict RFC 8259 parsing: UTF-8 only, no NaN/Infinity, no overflowing numbers."""
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; so is an
        # integer with more digits than Python converts.
        raise ParseError() from None


def _valid_id(request: dict[str, Any]) -> bool:
    if "id" not in request:
        return True
    identifier = request["id"]
    return identifier is None or (
        isinstance(identifier, (str, int, float)) and not isinstance(identifier, bool)
    )


def is_valid_request(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("jsonrpc") == "2.0"
        and isinstance(item.get("method"), str)
        and isinstance(item.get("params", []), (list, dict))
        and _valid_id(item)
    )


def encode(answer: object) -> bytes:
    try:
        return json.dumps(
            answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (echoed in an id, say) cannot be UTF-8: escape it.
        return json.dumps(answer, allow_nan=False, separators=(",", ":")).encode("ascii")


class Envelope:
    def __init__(
        self, dispatcher: Dispatcher, max_batch: int, observer: CallObserver | None = None
    ) -> None:
        self._dispatcher = dispatcher
        self._max_batch = max_batch
        self._observer = observer

    def _refused(self, context: CallContext, code: int, started: float) -> None:
        """Tell the observer of an answer to something that was not a valid request."""
        if self._observer is not None:
            self._observer.call_finished(
                INVALID_METHOD, None, context.origin_header, code, perf_counter() - started
            )

    def error_answer(self, error: WalletRpcError, identifier: Any = None) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "error": self._dispatcher.error(error), "id": identifier}

    async def answer(self, body: bytes, context: CallContext) -> object | None:
        """The JSON value to send back, or None when nothing is owed (notifications only)."""
        started = perf_counter()
        try:
            message = parse_json(body)
        except ParseError as error:
            self._refused(context, error.code, started)
            return self.error_answer(error)
        if not isinstance(message, list):
            return await self._answer_one(message, context)
        if not message:
            self._refused(context, InvalidRequest.code, started)
            return self.error_answer(InvalidRequest({"reason": "empty batch"}))
        if len(message) > self._max_batch:
            self._refused(context, InvalidRequest.code, started)
            return self.error_answer(
                InvalidRequest({"reason": f"batch larger than {self._max_batch} requests"})
            )
        answers = await asyncio.gather(*(self._answer_one(item, context) for item in message))
        present = [answer for answer in answers if answer is not None]
        return present or None

    async def _answer_one(self, item: object, context: CallContext) -> dict[str, Any] | None:
        started = perf_counter()
        if not is_valid_request(item):
            self._refused(context, InvalidRequest.code, started)
            return self.error_answer(InvalidRequest())
        assert isinstance(item, dict)
        succeeded, value = await self._dispatcher.dispatch(item, context)
        if self._observer is not None:
            self._observer.call_finished(
                item["method"],
                item.get("id"),
                context.origin_header,
                OK if succeeded else value["code"],
                perf_counter() - started,
            )
        if "id" not in item:
            return None
        if succeeded:
            return {"jsonrpc": "2.0", "result": value, "id": item["id"]}
        return {"jsonrpc": "2.0", "error": value, "id": item["id"]}
