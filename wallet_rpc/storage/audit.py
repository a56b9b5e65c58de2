"""The audit trail: one row per wallet method call.

A call that writes puts its row into its own write job, so the row commits
(or not) with the change it records. A call that writes nothing hands its row
to `AuditQueue`, which rides with the next group the writer commits; the
caller does not wait for that commit, so such rows may appear one commit late.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from wallet_rpc.errors import StorageUnavailable
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sqlite import MultiRowInsert, driver_of, sqlite_datetime
from wallet_rpc.storage.tables import audit_log
from wallet_rpc.storage.writer import WriteJob

logger = logging.getLogger(__name__)

ORIGIN_LIMIT = 255
# After a failed flush (database down, writer overloaded), before the next try.
_RETRY_SECONDS = 1.0
# Rows deleted per write job when pruning: calls get the writer between batches.
PRUNE_BATCH_ROWS = 5000
_PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    origin: str | None
    method: str
    # The JSON-RPC error code; None when the call succeeded.
    code: int | None
    # The result as JSON text, for results that carry no credential data.
    result: str | None
    credential_id: int | None = None

    def with_credential(self, credential_id: int, result: str) -> AuditEntry:
        return AuditEntry(self.at, self.origin, self.method, None, result, credential_id)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    origin: str | None
    method: str
    code: int | None
    result: str | None
    credential_id: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "origin": self.origin,
            "method": self.method,
            "outcome": "ok" if self.code is None else "error",
            "code": self.code,
            "result": None if self.result is None else json.loads(self.result),
            "credential_id": self.credential_id,
        }


_INSERT = audit_log.insert()
# On SQLite the writer's own driver connection takes the rows directly, all in
# one statement: SQLAlchemy's execution path costs ~18 us per row against ~7 us
# (docs/operations.md, "Per-call costs").
_INSERT_SQLITE = MultiRowInsert(
    "INSERT INTO audit_log (at, origin, method, code, result, credential_id) VALUES ", 6
)


def insert_audit(connection: Connection, entries: list[AuditEntry]) -> None:
    """Add rows inside the caller's transaction."""
    if not entries:
        return
    if connection.dialect.name == "sqlite":
        _INSERT_SQLITE.execute_all(
            driver_of(connection),
            [
                (
                    sqlite_datetime(entry.at),
                    entry.origin,
                    entry.method,
                    entry.code,
                    entry.result,
                    entry.credential_id,
                )
                for entry in entries
            ],
        )
        return
    connection.execute(
        _INSERT,
        [
            {
                "at": entry.at,
                "origin": entry.origin,
                "method": entry.method,
                "code": entry.code,
                "result": entry.result,
                "credential_id": entry.credential_id,
            }
            for entry in entries
        ],
    )


class AuditQueue:
    """Rows of calls that write nothing, committed with the writer's next group.

    `add` costs an append; one flush job at a time is queued to the writer,
    and it takes every row waiting when it runs. A flush that fails puts its
    rows back and tries again a second later; `close` writes what is left.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._waiting: deque[AuditEntry] = deque()
        self._flush: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, entry: AuditEntry) -> None:
        self._waiting.append(entry)
        if self._flush is None and not self._closed:
            self._flush = asyncio.get_running_loop().create_task(self._write_waiting())

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                taken: list[AuditEntry] | None = None

                def job(connection: Connection) -> None:
                    nonlocal taken
                    # Taken once: a retry of the job (after a failed group) writes the same rows.
                    if taken is None:
                        taken = []
                        while self._waiting:
                            taken.append(self._waiting.popleft())
                    insert_audit(connection, taken)

                try:
                    await self._database.write(job)
                except Exception as error:  # the rows go back to wait, and are tried again shortly
                    # A storage fault is logged once, by the writer; a bug with its traceback.
                    if not isinstance(error, StorageUnavailable):
                        logger.warning("audit rows not written yet; will retry", exc_info=True)
                    if taken:
                        self._waiting.extendleft(reversed(taken))
                    if self._closed:
                        return
                    await asyncio.sleep(_RETRY_SECONDS)
        finally:
            self._flush = None

    async def close(self) -> None:
        """Write every row still waiting (call before the database closes)."""
        self._closed = True
        while self._flush is not None:
            await self._flush
        if self._waiting:
            try:
                await self._database.write(self._write_all_job())
            except Exception:  # shutdown goes on: the database must still be closed
                logger.exception("audit rows lost at shutdown")

    def _write_all_job(self) -> Any:
        entries = list(self._waiting)
        self._waiting.clear()
        return lambda connection: insert_audit(connection, entries)


async def list_audit(
    database: Database,
    *,
    origin: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """Rows oldest first, optionally of one origin and from a moment on.

    Ordered by the time of the call: a queued row may commit after the row of
    a later call that wrote, so ids alone do not give the order of calls.
    """

    def job(connection: Connection) -> list[AuditRecord]:
        query = select(audit_log).order_by(audit_log.c.at, audit_log.c.id)
        if origin is not None:
            query = query.where(audit_log.c.origin == origin)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if limit is not None:
            query = (
                query.order_by(None)
                .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                .limit(limit)
            )
        rows = [
            AuditRecord(
                id=row.id,
                at=row.at,
                origin=row.origin,
                method=row.method,
                code=row.code,
                result=row.result,
                credential_id=row.credential_id,
            )
            for row in connection.execute(query)
        ]
        return rows[::-1] if limit is not None else rows

    return await database.query(job)


def prune_before(cutoff: datetime) -> WriteJob[int]:
    """Delete up to PRUNE_BATCH_ROWS of the oldest rows from before `cutoff`; answer how many."""

    def job(connection: Connection) -> int:
        oldest = (
            select(audit_log.c.id)
            .where(audit_log.c.at < cutoff)
            .order_by(audit_log.c.at)
            .limit(PRUNE_BATCH_ROWS)
        )
        removed = connection.execute(delete(audit_log).where(audit_log.c.id.in_(oldest)))
        return int(removed.rowcount)

    return job


class AuditPruner:
    """Keeps the trail to its retention: prunes at start, then hourly, one batch per write job."""

    def __init__(self, database: Database, keep: timedelta) -> None:
        self._database = database
        self._keep = keep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-pruner")

    async def prune(self) -> int:
        cutoff = datetime.now(UTC) - self._keep
        total = 0
        while True:
            removed = await self._database.write(prune_before(cutoff))
            total += removed
            if removed < PRUNE_BATCH_ROWS:
                return total

    async def _run(self) -> None:
        while True:
            try:
                removed = await self.prune()
            except StorageUnavailable as error:  # the next round retries
                logger.warning("audit rows not pruned (%s); will retry", error)
            except Exception:  # the next round retries
                logger.warning("audit rows not pruned; will retry", exc_info=True)
            else:
                if removed:
                    logger.info("audit: removed %d rows older than %s", removed, self._keep)
            await asyncio.sleep(_PRUNE_EVERY_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
