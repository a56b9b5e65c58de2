"""The wallet's rules, one use case per method, checked in Auro Wallet's order.

Rate limit (22001) -> origin (23001) -> connection (1001) -> params (20003)
-> approval (1002), then the one write the use case needs.
"""

from __future__ import annotations

from typing import Any

from wallet_rpc import __version__
from wallet_rpc.config import Config
from wallet_rpc.errors import InvalidParams, NotConnected, OriginMismatch
from wallet_rpc.service.approval import ApprovalRequest, Approver
from wallet_rpc.service.credential import ValidCredential, parse_store_params
from wallet_rpc.service.origins import OriginPolicy, normalize_origin
from wallet_rpc.service.rate_limit import RateLimiter
from wallet_rpc.service.verification import CredentialVerifier
from wallet_rpc.storage import repository
from wallet_rpc.storage.database import Database


class WalletService:
    def __init__(
        self,
        config: Config,
        database: Database,
        approver: Approver,
        verifier: CredentialVerifier,
    ) -> None:
        self._config = config
        self._database = database
        self._approver = approver
        self._verifier = verifier
        self._origins = OriginPolicy(
            config.security.allowed_origins, config.security.default_origin
        )
        self._rate_limiter = RateLimiter(config.security.rate_limit_per_minute)

    def is_allowed_origin(self, origin_header: str) -> bool:
        origin = normalize_origin(origin_header)
        return origin is not None and self._origins.is_allowed(origin)

    def _admit(self, origin_header: str | None) -> str:
        """Rate limit, then origin: the checks every wallet method but mina_accounts shares."""
        self._rate_limiter.check(origin_header or "")
        return self._origins.resolve(origin_header)

    async def request_accounts(self, origin_header: str | None) -> list[str]:
        origin = self._admit(origin_header)
        account = self._config.current_account
        if not await repository.is_connected(self._database, origin):
            await self._approver.decide(ApprovalRequest("mina_requestAccounts", origin))
            await self._database.write(repository.connect_origin(origin, account))
        return [account]

    async def accounts(self, origin_header: str | None) -> list[str]:
        try:
            origin = self._origins.resolve(origin_header)
        except OriginMismatch:  # mina_accounts never fails, as in Auro
            return []
        if await repository.is_connected(self._database, origin):
            return [self._config.current_account]
        return []

    async def revoke_permissions(self, origin_header: str | None) -> list[str]:
        origin = self._admit(origin_header)
        await self._database.write(repository.disconnect_origin(origin))
        return []

    def info(self, origin_header: str | None) -> dict[str, Any]:
        self._admit(origin_header)
        return {"version": __version__, "init": True}

    async def store_private_credential(
        self, origin_header: str | None, params: object
    ) -> dict[str, str]:
        origin = self._admit(origin_header)
        if not await repository.is_connected(self._database, origin):
            raise NotConnected()
        credential = parse_store_params(
            params, max_credential_bytes=self._config.security.max_credential_bytes
        )
        self._check_owner(credential)
        verified = await self._verifier.check(credential)
        await self._approver.decide(
            ApprovalRequest("mina_storePrivateCredential", origin, credential.document)
        )
        _, body = await self._database.write(
            repository.store_credential(
                repository.NewCredential(
                    origin=origin,
                    dedup_key=credential.dedup_key,
                    owner=credential.owner,
                    witness_type=credential.witness_type,
                    verified=verified,
                    body=credential.stored_json,
                )
            )
        )
        return {"credential": body}

    def _check_owner(self, credential: ValidCredential) -> None:
        if (
            self._config.security.require_owner_account
            and credential.owner not in self._config.wallet.accounts
        ):
            raise InvalidParams(
                {"field": "credential.credential.owner", "reason": "not an account of this wallet"}
            )
