"""Dispatch of one validated JSON-RPC request, through jsonrpcserver.

This is the only module that knows jsonrpcserver. It gets requests the
envelope has already validated (jsonrpcserver would answer `[1]` or a mixed
batch with one error, and it puts exception text into -32603), and every
method it calls catches its own errors, so that the mapping of errors stays
in `wallet_rpc.rpc.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonrpcserver import Error, Result, Success
from jsonrpcserver.async_main import dispatch_to_response
from jsonrpcserver.response import ErrorResponse, SuccessResponse
from oslash.either import Left

from wallet_rpc.errors import InternalError, MethodNotFound, WalletRpcError
from wallet_rpc.methods import CallContext, Method, Params
from wallet_rpc.rpc.errors import MessageStyle, error_object

logger = logging.getLogger(__name__)

Reply = tuple[bool, Any]  # (succeeded, result or error object)


@dataclass(frozen=True, slots=True)
class _Call:
    context: CallContext
    params: Params


def _identity(value: Any) -> Any:
    return value


class Dispatcher:
    def __init__(self, methods: Mapping[str, Method], message_style: MessageStyle) -> None:
        self._message_style = message_style
        self._methods = {name: self._adapt(method) for name, method in methods.items()}

    def error(self, error: WalletRpcError) -> dict[str, Any]:
        return error_object(error, self._message_style)

    def _adapt(self, method: Method) -> Any:
        async def call(call: _Call, *_args: Any, **_kwargs: Any) -> Result:
            try:
                return Success(await method(call.context, call.params))
            except WalletRpcError as error:
                return Error(**self.error(error))
            except Exception:
                logger.exception("method failed")
                return Error(**self.error(InternalError()))

        return call

    async def dispatch(self, request: dict[str, Any], context: CallContext) -> Reply:
        """Run one request (already validated); answer (True, result) or (False, error)."""
        response = await dispatch_to_response(
            request,
            self._methods,
            context=_Call(context, request.get("params")),
            deserializer=_identity,
            validator=_identity,
        )
        if response is None:  # a notification: jsonrpcserver keeps no answer
            return True, None
        value = response._error if isinstance(response, Left) else response._value
        if isinstance(value, SuccessResponse):
            return True, value.result
        if isinstance(value, ErrorResponse) and value.code == MethodNotFound.code:
            return False, self.error(MethodNotFound())
        if isinstance(value, ErrorResponse):
            body = {"code": value.code, "message": value.message}
            if isinstance(value.data, (dict, list, str, int, float, bool)):
                body["data"] = value.data
            return False, body
        logger.error("unexpected dispatch outcome %r", type(value))
        return False, self.error(InternalError())
