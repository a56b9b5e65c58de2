"""Prompt mode: a request that needs consent waits until a person decides or time runs out.

The waiting request is a row in the database (storage/approvals.py), so the
page of any replica and the CLI see it and can decide it. The process holding
the request learns of a decision at once when it was made through itself, and
otherwise by polling the database. As in Auro Wallet, a decision names the
origin it was shown for; one that names another origin answers 23001.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from wallet_rpc.errors import OriginMismatch, UserRejected
from wallet_rpc.service.approval import ApprovalRequest
from wallet_rpc.service.presentation import CredentialView, describe_credential_json
from wallet_rpc.storage import approvals
from wallet_rpc.storage.approvals import Decision as Decision  # re-exported: the page decides
from wallet_rpc.storage.approvals import Recorded as Recorded  # in these words
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import Sealer

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.15

METHOD_TITLES = {
    "mina_requestAccounts": "Connect: share the current account with this site",
    "mina_storePrivateCredential": "Store a private credential",
}


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A waiting request as a person is shown it."""

    id: str
    method: str
    origin: str
    requested_at: datetime
    expires_at: datetime
    credential: Any
    view: CredentialView | None

    @property
    def title(self) -> str:
        return METHOD_TITLES.get(self.method, self.method)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "origin": self.origin,
            "requested_at": self.requested_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "credential": self.credential,
            "readable": None if self.view is None else self.view.as_json(),
        }


def _shown(pending: approvals.PendingApproval) -> PendingRequest:
    credential: Any = None
    if pending.credential_json is not None:
        try:
            credential = json.loads(pending.credential_json)
        except ValueError:
            credential = pending.credential_json
    return PendingRequest(
        id=pending.id,
        method=pending.method,
        origin=pending.origin,
        requested_at=pending.requested_at,
        expires_at=pending.expires_at,
        credential=credential,
        view=describe_credential_json(pending.credential_json),
    )


async def pending_requests(database: Database, sealer: Sealer) -> list[PendingRequest]:
    """Every request waiting for a decision, in any process on this database."""
    return [_shown(pending) for pending in await approvals.list_pending(database, sealer)]


async def pending_request(
    database: Database, sealer: Sealer, approval_id: str
) -> PendingRequest | None:
    pending = await approvals.get_pending(database, sealer, approval_id)
    return None if pending is None else _shown(pending)


async def pending_count(database: Database) -> int:
    return await approvals.count_pending(database)


async def record_decision(
    database: Database, approval_id: str, decision: Decision, shown_origin: str
) -> Recorded:
    """Decide a waiting request from anywhere; its process picks the decision up."""
    return await database.write(approvals.record_decision(approval_id, decision, shown_origin))


class _Wake(Enum):
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"
    SHUTDOWN = "shutdown"


@dataclass(slots=True)
class _Waiter:
    present: Callable[[], bool]
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    reason: _Wake | None = None

    def wake(self, reason: _Wake) -> None:
        if self.reason is None:
            self.reason = reason
            self.woken.set()


class _Outcome(Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    ORIGIN_MISMATCH = "decided for another origin (23001)"
    TIMED_OUT = "timed out"
    WITHDRAWN = "withdrawn: its client hung up"
    SHUTDOWN = "rejected: the server is stopping"


def _outcome(
    request: ApprovalRequest, reason: _Wake | None, record: approvals.DecisionRecord | None
) -> _Outcome:
    if reason is _Wake.WITHDRAWN:
        return _Outcome.WITHDRAWN
    if reason is _Wake.SHUTDOWN:
        return _Outcome.SHUTDOWN
    if record is None:
        return _Outcome.TIMED_OUT
    if record.shown_origin != request.origin:
        return _Outcome.ORIGIN_MISMATCH
    return _Outcome.APPROVED if record.decision is Decision.APPROVE else _Outcome.REJECTED


class PromptApprover:
    """The Approver of prompt mode, and the desk where this process's page records decisions."""

    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        timeout_seconds: float,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._timeout = timeout_seconds
        self._poll_seconds = poll_seconds
        self._waiting: dict[str, _Waiter] = {}
        self._poller: asyncio.Task[None] | None = None
        self._closing = False

    async def decide(self, request: ApprovalRequest) -> None:
        if self._closing:
            raise UserRejected()
        credential_json = (
            None
            if request.credential is None
            else json.dumps(request.credential, ensure_ascii=False, separators=(",", ":"))
        )
        approval_id = await self._database.write(
            approvals.add_pending(
                request.method,
                request.origin,
                credential_json,
                timedelta(seconds=self._timeout),
                self._sealer,
            )
        )
        waiter = _Waiter(request.requester_present)
        self._waiting[approval_id] = waiter
        self._ensure_poller()
        logger.info("approval %s waits: %s from %s", approval_id, request.method, request.origin)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.woken.wait(), self._timeout)
        finally:
            del self._waiting[approval_id]
            # Deleting the row withdraws it from every page and list; whatever was
            # decided up to this instant comes back with it.
            record = await self._database.write(approvals.close_pending(approval_id))
        outcome = _outcome(request, waiter.reason, record)
        logger.info("approval %s: %s", approval_id, outcome.value)
        if outcome is _Outcome.ORIGIN_MISMATCH:
            raise OriginMismatch()
        if outcome is not _Outcome.APPROVED:
            raise UserRejected()

    async def pending(self) -> list[PendingRequest]:
        return await pending_requests(self._database, self._sealer)

    async def record(self, approval_id: str, decision: Decision, shown_origin: str) -> Recorded:
        """Record a decision made through this process, and wake its waiter if it is here."""
        recorded = await record_decision(self._database, approval_id, decision, shown_origin)
        waiter = self._waiting.get(approval_id)
        if recorded is Recorded.RECORDED and waiter is not None:
            waiter.wake(_Wake.DECIDED)
        return recorded

    async def shutdown(self) -> None:
        """Answer every waiting request with 1002 now; refuse new ones."""
        self._closing = True
        for waiter in self._waiting.values():
            waiter.wake(_Wake.SHUTDOWN)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="approval-poller")

    async def _poll(self) -> None:
        """While anything waits here: notice hang-ups and decisions made elsewhere."""
        while self._waiting:
            await asyncio.sleep(self._poll_seconds)
            undecided: list[str] = []
            for approval_id, waiter in list(self._waiting.items()):
                if waiter.reason is not None:
                    continue
                if not waiter.present():
                    waiter.wake(_Wake.WITHDRAWN)
                else:
                    undecided.append(approval_id)
            try:
                decided = await approvals.decided_among(self._database, undecided)
            except Exception:  # a failed read is retried on the next round
                logger.warning("cannot read approval decisions; retrying", exc_info=True)
                continue
            for approval_id in decided:
                if approval_id in self._waiting:
                    self._waiting[approval_id].wake(_Wake.DECIDED)
