"""The one hierarchy of errors a client can see, each with a stable JSON-RPC code.

Every layer raises these; `wallet_rpc.rpc.errors` is the one place that turns
them into JSON-RPC error objects. Nothing here carries exception text from a
library: `data`, when present, is built by our own code for the client.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WalletRpcError(Exception):
    """Base of every error with a JSON-RPC code."""

    code: ClassVar[int]

    def __init__(self, data: Any = None) -> None:
        super().__init__(type(self).__name__)
        self.data = data


# JSON-RPC 2.0 protocol errors (section 5.1 of the specification).
class ParseError(WalletRpcError):
    code = -32700


class InvalidRequest(WalletRpcError):
    code = -32600


class MethodNotFound(WalletRpcError):
    code = -32601


class InvalidMethodParams(WalletRpcError):
    """-32602: bad params for a non-wallet method (wallet methods use InvalidParams)."""

    code = -32602


class InternalError(WalletRpcError):
    code = -32603


class Overloaded(WalletRpcError):
    """The server has more work queued than it accepts; the client may retry."""

    code = -32000


class StorageUnavailable(WalletRpcError):
    """The storage cannot make a write (or read) now: disk full, read-only, locked, the file
    gone, the server unreachable. `data` says which, in our words; nothing was half-stored,
    and the same request succeeds once the fault is gone."""

    code = -32001

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(None if reason is None else {"reason": reason})
        self.reason = reason or "the storage is unavailable"

    def __str__(self) -> str:
        return f"storage unavailable: {self.reason}"


# Auro Wallet's errors for the wallet methods.
class NotConnected(WalletRpcError):
    code = 1001


class UserRejected(WalletRpcError):
    code = 1002


class InvalidParams(WalletRpcError):
    """20003: the wallet method's params are invalid; data names the field and why."""

    code = 20003


class RateLimited(WalletRpcError):
    code = 22001


class OriginMismatch(WalletRpcError):
    code = 23001
