"""Dispatch of one validated JSON-RPC request to its method.

The envelope has already validated the request; this module finds the
method, runs it, and turns whatever it raises into a JSON-RPC error object
through `wallet_rpc.rpc.errors`, the one mapping. An unexpected exception is
logged with its traceback and answered as -32603 with no detail.

jsonrpcserver did this job first; it cost about 72 us per call of a
~200 us store budget (see docs/decisions.md, "JSON-RPC dispatch").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from wallet_rpc.errors import InternalError, MethodNotFound, WalletRpcError
from wallet_rpc.methods import CallContext, Method
from wallet_rpc.rpc.errors import MessageStyle, error_object

logger = logging.getLogger(__name__)

Reply = tuple[bool, Any]  # (succeeded, result or error object)


class Dispatcher:
    def __init__(self, methods: Mapping[str, Method], message_style: MessageStyle) -> None:
        self._methods = dict(methods)
        self._message_style = message_style

    def error(self, error: WalletRpcError) -> dict[str, Any]:
        return error_object(error, self._message_style)

    async def dispatch(self, request: dict[str, Any], context: CallContext) -> Reply:
        """Run one request; answer (True, result) or (False, error object)."""
        method = self._methods.get(request["method"])
        if method is None:
            return False, self.error(MethodNotFound())
        try:
            return True, await method(context, request.get("params"))
        except WalletRpcError as error:
            return False, self.error(error)
        except Exception:
            logger.exception("method %s failed", request["method"])
            return False, self.error(InternalError())
