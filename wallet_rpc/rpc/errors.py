"""The one place where errors become JSON-RPC error objects."""

from __future__ import annotations

from typing import Any, Literal

from wallet_rpc import errors

MessageStyle = Literal["docs", "extension"]

# JSON-RPC 2.0 section 5.1, and Auro Wallet's texts ("docs": its published
# docs; "extension": what Auro Wallet v2.5 actually sends).
MESSAGES: dict[type[errors.WalletRpcError], dict[MessageStyle, str]] = {
    errors.ParseError: {"docs": "Parse error", "extension": "Parse error"},
    errors.InvalidRequest: {"docs": "Invalid Request", "extension": "Invalid Request"},
    errors.MethodNotFound: {"docs": "Method not found", "extension": "Method not found"},
    errors.InvalidMethodParams: {"docs": "Invalid params", "extension": "Invalid params"},
    errors.InternalError: {"docs": "Internal error", "extension": "Internal error"},
    errors.Overloaded: {"docs": "Server overloaded", "extension": "Server overloaded"},
    errors.StorageUnavailable: {"docs": "Storage unavailable", "extension": "Storage unavailable"},
    errors.NotConnected: {
        "docs": "User disconnect, need connect Auro Wallet.",
        "extension": "User disconnect, please connect first.",
    },
    errors.UserRejected: {
        "docs": "The request was rejected by the user.",
        "extension": "User rejected the request.",
    },
    errors.InvalidParams: {
        "docs": "The parameters were invalid.",
        "extension": "Invalid method parameter(s).",
    },
    errors.RateLimited: {
        "docs": "Rate limit exceeded. Please try again later.",
        "extension": "Rate limit exceeded. Please try again later.",
    },
    errors.OriginMismatch: {"docs": "Origin dismatch.", "extension": "Origin dismatch."},
}


def error_object(error: errors.WalletRpcError, style: MessageStyle) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": MESSAGES[type(error)][style]}
    if error.data is not None:
        body["data"] = error.data
    return body
