"""The wallet's rules, one use case per method, checked in Auro Wallet's order.

Rate limit (22001) -> origin (23001) -> connection (1001) -> params (20003)
-> approval (1002), then the one write the use case needs.

Every call leaves an audit row: a call that writes puts it into its write
job (one transaction); any other call, and any call that fails, queues it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wallet_rpc import __version__
from wallet_rpc.config import Config
from wallet_rpc.errors import (
    InternalError,
    InvalidParams,
    NotConnected,
    OriginMismatch,
    WalletRpcError,
)
from wallet_rpc.service.approval import ApprovalRequest, Approver, always_present
from wallet_rpc.service.credential import ValidCredential, parse_store_params
from wallet_rpc.service.origins import OriginPolicy
from wallet_rpc.service.rate_limit import RateLimiter
from wallet_rpc.service.verification import CredentialVerifier
from wallet_rpc.storage import connections, credentials
from wallet_rpc.storage.audit import ORIGIN_LIMIT, AuditEntry, AuditQueue
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import PLAINTEXT, Sealer

REQUEST_ACCOUNTS = "mina_requestAccounts"
ACCOUNTS = "mina_accounts"
REVOKE_PERMISSIONS = "wallet_revokePermissions"
INFO = "wallet_info"
STORE_PRIVATE_CREDENTIAL = "mina_storePrivateCredential"
_NO_ACCOUNTS = "[]"
# The rate limiter's key for every origin that is not allowed: never an origin's normal form.
NOT_ALLOWED = ""


def _now() -> datetime:
    return datetime.now(UTC)


class WalletService:
    def __init__(
        self,
        config: Config,
        database: Database,
        approver: Approver,
        verifier: CredentialVerifier,
        *,
        sealer: Sealer = PLAINTEXT,
        audit: AuditQueue | None = None,
    ) -> None:
        self._config = config
        self._database = database
        self._approver = approver
        self._verifier = verifier
        self._sealer = sealer
        self._audit = audit if audit is not None else AuditQueue(database)
        self._origins = OriginPolicy(
            config.security.allowed_origins, config.security.default_origin
        )
        self._rate_limiter = RateLimiter(config.security.rate_limit_per_minute)
        # Results recorded in the audit trail, encoded once.
        self._info = {"version": __version__, "init": True}
        self._info_json = json.dumps(self._info, separators=(",", ":"))
        self._accounts_json = json.dumps([config.current_account], separators=(",", ":"))

    def _audit_origin(self, origin_header: str | None) -> str | None:
        """The origin an audit row names: the resolved one, else the header as sent."""
        try:
            return self._origins.resolve(origin_header)
        except OriginMismatch:
            return None if origin_header is None else origin_header[:ORIGIN_LIMIT]

    def _audit_failure(self, method: str, origin_header: str | None, error: Exception) -> None:
        code = error.code if isinstance(error, WalletRpcError) else InternalError.code
        self._audit.add(AuditEntry(_now(), self._audit_origin(origin_header), method, code, None))

    def allowed_origin(self, origin_header: str) -> str | None:
        """The header's origin in normal form if it is allowed (what CORS echoes), else None."""
        return self._origins.allowed(origin_header)

    def _admit(self, origin_header: str | None) -> str:
        """Rate limit, then origin: the checks every wallet method but mina_accounts shares.

        The budget is the origin's in normal form; requests whose origin is
        not allowed all spend one budget, so inventing origins buys nothing.
        """
        origin = self._origins.request_origin(origin_header)
        self._rate_limiter.check(NOT_ALLOWED if origin is None else origin)
        if origin is None:
            raise OriginMismatch()
        return origin

    async def request_accounts(
        self, origin_header: str | None, requester_present: Callable[[], bool] = always_present
    ) -> list[str]:
        try:
            origin = self._admit(origin_header)
            account = self._config.current_account
            if not await connections.is_connected(self._database, origin):
                await self._approver.decide(
                    ApprovalRequest(REQUEST_ACCOUNTS, origin, requester_present=requester_present)
                )
                audit = AuditEntry(_now(), origin, REQUEST_ACCOUNTS, None, self._accounts_json)
                await self._database.write(connections.connect_origin(origin, account, audit))
                return [account]
        except Exception as error:
            self._audit_failure(REQUEST_ACCOUNTS, origin_header, error)
            raise
        self._audit.add(AuditEntry(_now(), origin, REQUEST_ACCOUNTS, None, self._accounts_json))
        return [account]

    async def accounts(self, origin_header: str | None) -> list[str]:
        try:
            origin = self._origins.resolve(origin_header)
        except OriginMismatch:  # mina_accounts never fails, as in Auro
            self._audit.add(
                AuditEntry(_now(), self._audit_origin(origin_header), ACCOUNTS, None, _NO_ACCOUNTS)
            )
            return []
        try:
            connected = await connections.is_connected(self._database, origin)
        except Exception as error:
            self._audit_failure(ACCOUNTS, origin_header, error)
            raise
        result = self._accounts_json if connected else _NO_ACCOUNTS
        self._audit.add(AuditEntry(_now(), origin, ACCOUNTS, None, result))
        return [self._config.current_account] if connected else []

    async def revoke_permissions(self, origin_header: str | None) -> list[str]:
        try:
            origin = self._admit(origin_header)
            audit = AuditEntry(_now(), origin, REVOKE_PERMISSIONS, None, _NO_ACCOUNTS)
            await self._database.write(connections.disconnect_origin(origin, audit))
        except Exception as error:
            self._audit_failure(REVOKE_PERMISSIONS, origin_header, error)
            raise
        return []

    def info(self, origin_header: str | None) -> dict[str, Any]:
        try:
            origin = self._admit(origin_header)
        except Exception as error:
            self._audit_failure(INFO, origin_header, error)
            raise
        self._audit.add(AuditEntry(_now(), origin, INFO, None, self._info_json))
        return dict(self._info)

    async def store_private_credential(
        self,
        origin_header: str | None,
        params: object,
        requester_present: Callable[[], bool] = always_present,
    ) -> dict[str, str]:
        try:
            origin = self._admit(origin_header)
            if not await connections.is_connected(self._database, origin):
                raise NotConnected()
            credential = parse_store_params(
                params, max_credential_bytes=self._config.security.max_credential_bytes
            )
            self._check_owner(credential)
            verified = await self._verifier.check(credential)
            await self._approver.decide(
                ApprovalRequest(
                    STORE_PRIVATE_CREDENTIAL, origin, credential.document, requester_present
                )
            )
            stored = await self._database.write(
                credentials.store_credential(
                    credentials.NewCredential(
                        origin=origin,
                        dedup_key=credential.dedup_key,
                        owner=credential.owner,
                        witness_type=credential.witness_type,
                        verified=verified,
                        body=credential.stored_json,
                    ),
                    self._sealer,
                    # Completed with the entry's id inside the write's transaction.
                    AuditEntry(_now(), origin, STORE_PRIVATE_CREDENTIAL, None, None),
                )
            )
        except Exception as error:
            self._audit_failure(STORE_PRIVATE_CREDENTIAL, origin_header, error)
            raise
        return {"credential": stored.body}

    def _check_owner(self, credential: ValidCredential) -> None:
        if (
            self._config.security.require_owner_account
            and credential.owner not in self._config.wallet.accounts
        ):
            raise InvalidParams(
                {"field": "credential.credential.owner", "reason": "not an account of this wallet"}
            )
