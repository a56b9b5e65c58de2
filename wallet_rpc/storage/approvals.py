"""Pending approvals: requests waiting for a person, shared by every process on the database.

A request is a row from the moment it starts waiting until its waiter closes
it. A decision is written onto the row (by any process); the waiter notices,
then deletes the row and acts on what it found. Closing is one atomic
DELETE ... RETURNING, so a decision that lands as the wait ends is either
seen by the waiter or refused to the decider, never lost in between.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import SealedBodyError, Sealer, unsealed
from wallet_rpc.storage.tables import pending_approvals
from wallet_rpc.storage.writer import WriteJob

logger = logging.getLogger(__name__)

# Rows of a process that died while waiting stay until this long past their expiry.
_ABANDONED_ROW_GRACE = timedelta(minutes=1)
_ID_BYTES = 4
_ID_ATTEMPTS = 8


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Recorded(StrEnum):
    """What became of a decision someone tried to record."""

    RECORDED = "recorded"
    # No such request is waiting: never was, timed out, withdrawn, or answered.
    NOT_PENDING = "not-pending"
    ALREADY_DECIDED = "already-decided"


@dataclass(frozen=True, slots=True)
class PendingApproval:
    id: str
    method: str
    origin: str
    # None also when it is sealed with a key other than the configured one.
    credential_json: str | None
    requested_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    decision: Decision
    shown_origin: str


def new_approval_id() -> str:
    return secrets.token_hex(_ID_BYTES)


def _sealing_binding(approval_id: str) -> str:
    # A stored body is bound to its row's (origin, dedup key); a waiting one to (origin, id).
    return f"approval {approval_id}"


def add_pending(
    method: str, origin: str, credential_json: str | None, timeout: timedelta, sealer: Sealer
) -> WriteJob[str]:
    """Insert a waiting request under a fresh random id; answer the id.

    Its credential is sealed as stored credentials are, so that encryption at
    rest covers it while it waits.
    """

    def job(connection: Connection) -> str:
        now = datetime.now(UTC)
        connection.execute(
            delete(pending_approvals).where(
                pending_approvals.c.expires_at < now - _ABANDONED_ROW_GRACE
            )
        )
        for _ in range(_ID_ATTEMPTS):
            approval_id = new_approval_id()
            taken = connection.execute(
                select(pending_approvals.c.id).where(pending_approvals.c.id == approval_id)
            ).first()
            if taken is None:
                sealed = (
                    None
                    if credential_json is None
                    else sealer.seal(credential_json, origin, _sealing_binding(approval_id))
                )
                connection.execute(
                    pending_approvals.insert().values(
                        id=approval_id,
                        method=method,
                        origin=origin,
                        credential=sealed,
                        key_id=None if sealed is None else sealer.key_id,
                        requested_at=now,
                        expires_at=now + timeout,
                    )
                )
                return approval_id
        raise RuntimeError("no free approval id")  # 8 tries at 2**32: not in this universe

    return job


def record_decision(approval_id: str, decision: Decision, shown_origin: str) -> WriteJob[Recorded]:
    """Write a decision onto a request still waiting; the first decision wins."""

    def job(connection: Connection) -> Recorded:
        now = datetime.now(UTC)
        result = connection.execute(
            update(pending_approvals)
            .where(
                pending_approvals.c.id == approval_id,
                pending_approvals.c.decision.is_(None),
                pending_approvals.c.expires_at > now,
            )
            .values(decision=decision.value, decided_origin=shown_origin, decided_at=now)
        )
        if result.rowcount:
            return Recorded.RECORDED
        row = connection.execute(
            select(pending_approvals.c.decision).where(pending_approvals.c.id == approval_id)
        ).first()
        if row is not None and row.decision is not None:
            return Recorded.ALREADY_DECIDED
        return Recorded.NOT_PENDING

    return job


def close_pending(approval_id: str) -> WriteJob[DecisionRecord | None]:
    """Remove a request that stops waiting; answer the decision it had, if any."""

    def job(connection: Connection) -> DecisionRecord | None:
        row = connection.execute(
            delete(pending_approvals)
            .where(pending_approvals.c.id == approval_id)
            .returning(pending_approvals.c.decision, pending_approvals.c.decided_origin)
        ).first()
        if row is None or row.decision is None:
            return None
        return DecisionRecord(Decision(row.decision), str(row.decided_origin))

    return job


def _pending(row: Any, sealer: Sealer) -> PendingApproval:
    credential_json = None
    if row.credential is not None:
        try:
            credential_json = unsealed(
                sealer, row.credential, row.key_id, row.origin, _sealing_binding(row.id)
            )
        except SealedBodyError:
            # Left by a process that ran with another key; its decision still works.
            logger.warning("approval %s: its credential does not open with this key", row.id)
    return PendingApproval(
        id=row.id,
        method=row.method,
        origin=row.origin,
        credential_json=credential_json,
        requested_at=row.requested_at,
        expires_at=row.expires_at,
    )


_PENDING_COLUMNS = (
    pending_approvals.c.id,
    pending_approvals.c.method,
    pending_approvals.c.origin,
    pending_approvals.c.credential,
    pending_approvals.c.key_id,
    pending_approvals.c.requested_at,
    pending_approvals.c.expires_at,
)


def _undecided_now() -> Any:
    return (
        pending_approvals.c.decision.is_(None),
        pending_approvals.c.expires_at > datetime.now(UTC),
    )


async def count_pending(database: Database) -> int:
    def job(connection: Connection) -> int:
        counted = connection.execute(
            select(func.count()).select_from(pending_approvals).where(*_undecided_now())
        ).scalar_one()
        return int(counted)

    return await database.query(job)


async def list_pending(database: Database, sealer: Sealer) -> list[PendingApproval]:
    """Requests waiting for a decision, oldest first."""

    def job(connection: Connection) -> list[PendingApproval]:
        rows = connection.execute(
            select(*_PENDING_COLUMNS)
            .where(*_undecided_now())
            .order_by(pending_approvals.c.requested_at, pending_approvals.c.id)
        )
        return [_pending(row, sealer) for row in rows]

    return await database.query(job)


async def get_pending(
    database: Database, sealer: Sealer, approval_id: str
) -> PendingApproval | None:
    def job(connection: Connection) -> PendingApproval | None:
        row = connection.execute(
            select(*_PENDING_COLUMNS).where(
                pending_approvals.c.id == approval_id, *_undecided_now()
            )
        ).first()
        return None if row is None else _pending(row, sealer)

    return await database.query(job)


async def decided_among(database: Database, approval_ids: list[str]) -> set[str]:
    """Which of these requests someone has decided (in any process)."""
    if not approval_ids:
        return set()

    def job(connection: Connection) -> set[str]:
        rows = connection.execute(
            select(pending_approvals.c.id).where(
                pending_approvals.c.id.in_(approval_ids),
                pending_approvals.c.decision.is_not(None),
            )
        )
        return {str(row.id) for row in rows}

    return await database.query(job)
