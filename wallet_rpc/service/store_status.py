"""The store as an operator checks it: does it answer (/healthz), what does it hold (/metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from wallet_rpc.service.prompt import pending_count
from wallet_rpc.storage import credentials
from wallet_rpc.storage.database import Database


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """Counts shared by every replica on the database, read when asked."""

    stored_credentials: int
    pending_approvals: int


class StoreStatus:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def healthy(self) -> bool:
        """Whether the database answers and writes can succeed."""
        return await self._database.ping()

    async def counts(self) -> StoreCounts:
        return StoreCounts(
            stored_credentials=await credentials.count_credentials(self._database),
            pending_approvals=await pending_count(self._database),
        )
