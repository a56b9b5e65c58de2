"""The wallet as its own page shows it, and the two things a person does there.

A snapshot of what dApps left: the connected origins, the stored credentials
(decrypted with the configured key, as `credentials list` does, newest
first, each with its readable form), how many requests wait for approval, and
the latest audit rows. A person disconnects an origin (what
wallet_revokePermissions from that origin does) or deletes a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallet_rpc.config import Config
from wallet_rpc.service.presentation import CredentialView, describe_credential_json
from wallet_rpc.service.prompt import pending_count
from wallet_rpc.storage import connections as connection_store
from wallet_rpc.storage import credentials as credential_store
from wallet_rpc.storage.audit import AuditRecord, list_audit
from wallet_rpc.storage.connections import ConnectedOrigin
from wallet_rpc.storage.credentials import StoredCredential
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import Sealer

LATEST_AUDIT_ROWS = 20


@dataclass(frozen=True, slots=True)
class ShownCredential:
    stored: StoredCredential
    view: CredentialView


def _shown(stored: StoredCredential) -> ShownCredential:
    view = describe_credential_json(stored.body)
    assert view is not None  # a body is never None
    return ShownCredential(stored, view)


@dataclass(frozen=True, slots=True)
class Overview:
    account: str
    connections: list[ConnectedOrigin]
    # Newest first.
    credentials: list[ShownCredential]
    pending: int
    # Newest first.
    audit: list[AuditRecord]

    def as_json(self) -> dict[str, Any]:
        """GET /wallet.json (SPEC section 7): the stored data, unescaped."""
        return {
            "account": self.account,
            "connections": [connection.as_json() for connection in self.connections],
            "credentials": [shown.stored.as_json() for shown in self.credentials],
            "pending": self.pending,
            "audit": [record.as_json() for record in self.audit],
        }


class WalletOverview:
    def __init__(self, config: Config, database: Database, sealer: Sealer) -> None:
        self._config = config
        self._database = database
        self._sealer = sealer

    async def snapshot(self) -> Overview:
        credentials = await credential_store.list_credentials(self._database, self._sealer)
        audit = await list_audit(self._database, limit=LATEST_AUDIT_ROWS)
        return Overview(
            account=self._config.current_account,
            connections=await connection_store.list_connections(self._database),
            credentials=[_shown(stored) for stored in reversed(credentials)],
            pending=await pending_count(self._database),
            audit=audit[::-1],
        )

    async def credential(self, credential_id: int) -> ShownCredential | None:
        stored = await credential_store.get_credential(self._database, credential_id, self._sealer)
        return None if stored is None else _shown(stored)

    async def disconnect(self, origin: str) -> bool:
        """Forget the origin's connection; False if it was not connected."""
        if not await connection_store.is_connected(self._database, origin):
            return False
        await self._database.write(connection_store.disconnect_origin(origin))
        return True

    async def delete_credential(self, credential_id: int) -> bool:
        """False if no credential has this id."""
        return await self._database.write(credential_store.delete_credential(credential_id))
