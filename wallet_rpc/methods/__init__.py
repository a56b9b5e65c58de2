"""The wallet methods: each takes the call's context and its raw params."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from wallet_rpc.service.approval import always_present
from wallet_rpc.service.wallet import WalletService

Params = list[Any] | dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a method may know about the HTTP request that carried the call."""

    service: WalletService
    # Several Origin headers arrive as one value joined by ", " (RFC 9110
    # section 5.3), which is no origin.
    origin_header: str | None
    # False once the client has hung up: a call waiting for a person's
    # decision (prompt mode) then gives up; aiohttp does not cancel handlers.
    requester_present: Callable[[], bool] = always_present


Method = Callable[[CallContext, Params], Awaitable[Any]]


async def mina_request_accounts(context: CallContext, params: Params) -> list[str]:
    return await context.service.request_accounts(context.origin_header, context.requester_present)


async def mina_accounts(context: CallContext, params: Params) -> list[str]:
    return await context.service.accounts(context.origin_header)


async def wallet_revoke_permissions(context: CallContext, params: Params) -> list[str]:
    return await context.service.revoke_permissions(context.origin_header)


async def wallet_info(context: CallContext, params: Params) -> dict[str, Any]:
    return context.service.info(context.origin_header)


async def mina_store_private_credential(context: CallContext, params: Params) -> dict[str, str]:
    return await context.service.store_private_credential(
        context.origin_header, params, context.requester_present
    )


WALLET_METHODS: dict[str, Method] = {
    "mina_requestAccounts": mina_request_accounts,
    "mina_accounts": mina_accounts,
    "wallet_revokePermissions": wallet_revoke_permissions,
    "wallet_info": wallet_info,
    "mina_storePrivateCredential": mina_store_private_credential,
}
