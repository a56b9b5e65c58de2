"""The single writer: group commit of queued write jobs.

Every write is a job, a function of one SQLAlchemy Connection. The writer
takes all jobs waiting at the moment it is free and runs them in one
transaction, so N concurrent stores cost one commit (one fsync) instead of N.
A job's caller is answered only after that commit returns. If the group's
transaction fails, each of its jobs is retried in a transaction of its own, so
that one bad job cannot fail the others; a job that fails on its own hands
its caller the exception it raised, as datasette's write thread does. A
storage fault fails the whole group with StorageUnavailable (no retry: it is
not any one job's doing), and the writer remembers it until a write succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Connection

from wallet_rpc.errors import Overloaded, StorageUnavailable
from wallet_rpc.storage.faults import storage_fault

T = TypeVar("T")
WriteJob = Callable[[Connection], T]
Outcome = tuple[bool, Any]  # (succeeded, result or exception)
# A group's jobs, and the moment (time.monotonic) by which the oldest must be answered.
RunGroup = Callable[[list[WriteJob[Any]], float], Awaitable[list[Outcome]]]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: WriteJob[T]
    answer: asyncio.Future[T] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    submitted: float = field(default_factory=time.monotonic)


class BatchJob(Generic[T]):
    """A write that runs together with the others of its class in a group: one
    statement for all of them instead of one each (see docs/decisions.md)."""

    batch_size_limit: ClassVar[int] = 500

    @classmethod
    def run_batch(cls, connection: Connection, jobs: list[Any]) -> list[T]:
        """Run jobs (all of this class, in order); answer one result per job."""
        raise NotImplementedError

    def __call__(self, connection: Connection) -> T:
        return self.run_batch(connection, [self])[0]


def _run_all(connection: Connection, jobs: list[WriteJob[Any]]) -> list[Any]:
    """Run jobs in order, consecutive batch jobs of one class together."""
    results: list[Any] = []
    index = 0
    while index < len(jobs):
        job = jobs[index]
        if not isinstance(job, BatchJob):
            results.append(job(connection))
            index += 1
            continue
        kind = type(job)
        end = index + 1
        while end < len(jobs) and type(jobs[end]) is kind and end - index < kind.batch_size_limit:
            end += 1
        results.extend(kind.run_batch(connection, jobs[index:end]))
        index = end
    return results


def _single(job: WriteJob[Any]) -> Callable[[Connection], list[Any]]:
    return lambda connection: [job(connection)]


async def run_jobs_in_transactions(
    transaction: Callable[[Callable[[Connection], list[Any]]], Awaitable[list[Any]]],
    jobs: list[WriteJob[Any]],
) -> list[Outcome]:
    """Run jobs in one transaction; if it fails, give each a transaction of its own.

    `transaction(work)` runs `work` on a Connection inside a transaction and
    answers its result once committed.
    """
    try:
        return [(True, result) for result in await transaction(lambda c: _run_all(c, jobs))]
    except Exception as error:  # noqa: BLE001 - retried one by one below, each failure for its caller
        fault = storage_fault(error)
        if fault is not None:
            return [(False, fault)] * len(jobs)
        if len(jobs) == 1:
            return [(False, error)]
    outcomes: list[Outcome] = []
    for job in jobs:
        try:
            outcomes.append((True, (await transaction(_single(job)))[0]))
        except Exception as error:  # noqa: BLE001 - this job's caller gets what it raised
            outcomes.append((False, storage_fault(error) or error))
    return outcomes


class GroupCommitWriter:
    """Accepts write jobs from any task; one background task commits them in groups."""

    def __init__(
        self,
        run_group: RunGroup,
        *,
        max_wait_seconds: float,
        max_queue: int = 4096,
        max_group: int = 512,
    ) -> None:
        self._run_group = run_group
        self._max_wait = max_wait_seconds
        self._queue: asyncio.Queue[_Pending[Any]] = asyncio.Queue(maxsize=max_queue)
        self._max_group = max_group
        self._task: asyncio.Task[None] | None = None
        self.fault: StorageUnavailable | None = None
        # Until the first commit, a fault is start-up's to report (in one line).
        self._has_committed = False

    def _note(self, outcomes: list[Outcome]) -> None:
        """Remember a storage fault from the first write it failed until a write succeeds."""
        if any(succeeded for succeeded, _ in outcomes):
            if self.fault is not None:
                logger.warning("storage available again")
            self.fault = None
            self._has_committed = True
            return
        fault = next(
            (value for _, value in outcomes if isinstance(value, StorageUnavailable)), None
        )
        changed = fault is not None and (self.fault is None or self.fault.reason != fault.reason)
        if changed and self._has_committed:
            logger.error("%s; writes answer -32001 until it is fixed", fault)
        self.fault = fault or self.fault

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def stop(self) -> None:
        """Finish every job already queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def submit(self, job: WriteJob[T]) -> T:
        pending: _Pending[T] = _Pending(job)
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise Overloaded({"reason": "too many writes waiting; retry later"}) from None
        # A caller cancelled here cancels only its future: the job stays queued
        # and runs, and the writer skips answering a future already done.
        return await pending.answer

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self._max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            # Each job is answered within max_wait of its submission, however long
            # the groups before it waited (for another process's lock, say).
            deadline = group[0].submitted + self._max_wait
            try:
                outcomes = await self._run_group([pending.job for pending in group], deadline)
            except Exception as error:  # noqa: BLE001 - the writer outlives any one group
                outcomes = [(False, storage_fault(error) or error)] * len(group)
            self._note(outcomes)
            for pending, (succeeded, value) in zip(group, outcomes, strict=True):
                if pending.answer.done():
                    pass
                elif succeeded:
                    pending.answer.set_result(value)
                else:
                    pending.answer.set_exception(value)
                self._queue.task_done()
