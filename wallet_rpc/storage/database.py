"""The database: reads on their own connections, writes through one group-commit writer.

Storage faults surface as StorageUnavailable (-32001) from writes and reads
alike; on SQLite, nothing that can wait for another process's lock runs on
the event loop, so reads and /healthz keep answering while a write waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, delete, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from wallet_rpc.storage import postgres, sqlite
from wallet_rpc.storage.faults import storage_fault
from wallet_rpc.storage.tables import audit_log
from wallet_rpc.storage.writer import (
    GroupCommitWriter,
    Outcome,
    WriteJob,
    run_jobs_in_transactions,
)

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
ReadJob = Callable[[Connection], T]

# migrations/ at the top of the repository, installed inside the package
# (pyproject.toml maps it), so a checkout and an installed wheel find it alike.
MIGRATIONS_DIR = Path(str(resources.files("wallet_rpc.migrations")))
# The newest migration's revision (a test compares it with Alembic's head): a
# database at it needs no migration, and start-up does not load Alembic at all.
SCHEMA_HEAD = "0004"
# A health check answers within a second, even when the database host does not.
HEALTH_CHECK_TIMEOUT_SECONDS = 0.4
DEFAULT_BUSY_TIMEOUT_SECONDS = 10.0


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


class SchemaError(Exception):
    """The schema cannot be brought up to date (say, at a revision this version does not know)."""


def schema_revision(connection: Connection) -> str | None:
    """The database's Alembic revision; None for a database that has none yet."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if revision is None else str(revision)


def _upgrade_on(connection: Connection, url: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    config = alembic_config(url)
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, "head")
    except CommandError as error:
        # Said as a storage error: a caller need not import Alembic to catch it.
        raise SchemaError(str(error)) from error


def _migrate_sqlite(url: str) -> None:
    engine = sqlite.migration_engine(url)
    try:
        with engine.connect() as connection:
            if schema_revision(connection) == SCHEMA_HEAD:
                return
        with engine.begin() as connection:
            _upgrade_on(connection, url)
    finally:
        engine.dispose()


def _select_one(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))


def probe_write(connection: Connection) -> None:
    """A row into audit_log and out again: the database writes and syncs, and keeps nothing."""
    inserted = connection.execute(
        audit_log.insert()
        .values(at=datetime.now(UTC), method="(write probe)")
        .returning(audit_log.c.id)
    ).scalar_one()
    connection.execute(delete(audit_log).where(audit_log.c.id == inserted))


def _as_fault(error: Exception) -> Exception:
    return storage_fault(error) or error


def _discard(connection: Connection) -> None:
    """Close a connection whose transaction failed: the next group starts on a new one."""
    with contextlib.suppress(Exception):
        connection.invalidate()
    with contextlib.suppress(Exception):
        connection.close()


class Database:
    """Opened with `open()`, closed with `close()`; reads on a pool, writes through one writer."""

    def __init__(
        self, url: str, *, busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS
    ) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        path = sqlite.database_path(url) if self.is_sqlite else None
        self._file = None if path is None else sqlite.DatabaseFile(path)
        self._probe: asyncio.Future[None] | None = None
        # PostgreSQL's engines; SQLite has no async engine (see sqlite.py).
        self.engine: AsyncEngine
        self._read_engine: AsyncEngine
        self._sqlite_writer_engine: Engine | None = None
        self._sqlite_writer_thread: ThreadPoolExecutor | None = None
        self._checkpointer: sqlite.WalCheckpointer | None = None
        self._sqlite_writer: Connection | None = None
        self._sqlite_reader_engine: Engine | None = None
        self._sqlite_reader: Connection | None = None
        if self.is_sqlite:
            # SQLite reads are indexed lookups of a few microseconds that WAL
            # never blocks: run inline they cost less than a hop to any thread
            # (see docs/decisions.md, "Reads on SQLite").
            self._sqlite_reader_engine = sqlite.reader_engine(url)
        else:
            self.engine = postgres.writer_engine(url)
            self._read_engine = postgres.reader_engine(url)
        self.writer = GroupCommitWriter(self._run_group, max_wait_seconds=busy_timeout_seconds)

    async def migrate(self) -> None:
        """Bring the schema up to date, loading Alembic only when it is not.

        A storage fault raises StorageUnavailable; a schema Alembic cannot
        bring up to date, SchemaError.
        """
        try:
            if self.is_sqlite:
                await asyncio.to_thread(_migrate_sqlite, self.url)
                return
            async with self.engine.connect() as connection:
                if await connection.run_sync(schema_revision) == SCHEMA_HEAD:
                    return
            async with self.engine.begin() as connection:
                await connection.run_sync(_upgrade_on, self.url)
        except Exception as error:
            fault = storage_fault(error)
            if fault is None:
                raise
            raise fault from error

    async def open(self) -> None:
        if self._file is not None:
            try:
                self._file.remember()
            except OSError as error:
                raise _as_fault(error) from error
        if self.is_sqlite:
            # The writer uses the sync driver; its commits (the fsyncs) run on a
            # thread of its own.
            self._sqlite_writer_engine = sqlite.writer_engine(self.url)
            self._sqlite_writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._checkpointer = sqlite.WalCheckpointer(sqlite.checkpoint_engine(self.url))
        self.writer.start()

    async def close(self) -> None:
        await self.writer.stop()
        if self._checkpointer is not None:
            await self._checkpointer.close()
        if self._sqlite_writer_thread is not None:
            self._sqlite_writer_thread.shutdown(wait=True)
        if self._sqlite_writer is not None:
            self._sqlite_writer.close()
            self._sqlite_writer = None
        if self._sqlite_writer_engine is not None:
            self._sqlite_writer_engine.dispose()
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
            self._sqlite_reader = None
        if self._sqlite_reader_engine is not None:
            self._sqlite_reader_engine.dispose()
        if not self.is_sqlite:
            await self.engine.dispose()
            await self._read_engine.dispose()

    async def probe(self) -> None:
        """A write that keeps nothing; StorageUnavailable if the storage cannot write."""
        await self.write(probe_write)

    async def ping(self) -> bool:
        """Whether the database answers and writes can succeed (GET /healthz).

        Not while the file opened is gone from its path, nor from a write that
        failed for a storage fault until one succeeds: a probe write, started
        here, finds out when the fault is gone even if no client writes.
        """
        if self._file is not None and self._file.problem(writable=False) is not None:
            return False
        try:
            async with asyncio.timeout(HEALTH_CHECK_TIMEOUT_SECONDS):
                if self.writer.fault is not None:
                    await asyncio.shield(self._probe_in_flight())
                await self.query(_select_one)
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return self.writer.fault is None

    def _probe_in_flight(self) -> asyncio.Future[None]:
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self.probe())
            # Its outcome is the writer's state; nobody else needs it.
            self._probe.add_done_callback(lambda done: done.cancelled() or done.exception())
        return self._probe

    async def write(self, job: WriteJob[T]) -> T:
        """Run a write job in the writer's next group; what it raises, the caller gets.

        A storage fault raises StorageUnavailable, and nothing of the job stays.
        """
        return await self.writer.submit(job)

    async def query(self, job: ReadJob[T]) -> T:
        """Run a read-only job and return what it returns; a storage fault is StorageUnavailable."""
        try:
            if self._sqlite_reader_engine is None:
                return await self._read(job)
            if self._sqlite_reader is None:
                self._sqlite_reader = self._sqlite_reader_engine.connect()
            try:
                return job(self._sqlite_reader)
            finally:
                # Autocommit driver: this only ends SQLAlchemy's own bookkeeping.
                self._sqlite_reader.rollback()
        except Exception as error:
            fault = storage_fault(error)
            if fault is None:
                raise
            raise fault from error

    async def _read(self, job: ReadJob[T]) -> T:
        try:
            async with self._read_engine.connect() as connection:
                return await connection.run_sync(job)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        # The server dropped the connection: the pool has discarded it and every
        # connection opened before it, and a read is safe to run again.
        async with self._read_engine.connect() as connection:
            return await connection.run_sync(job)

    async def _on_writer_thread(self, function: Callable[..., T], *arguments: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._sqlite_writer_thread, function, *arguments)

    async def _sqlite_transaction(
        self, work: Callable[[Connection], list[Any]], deadline: float
    ) -> list[Any]:
        """Run work in a transaction: its statements on the event loop, the rest on the thread.

        Before COMMIT, SQLite in WAL mode only appends to its page cache: the
        statements take microseconds of CPU, and running them on the thread
        made them wait for the GIL behind the request handlers (see
        docs/decisions.md). What can wait runs on the writer's thread: the
        COMMIT (the fsync), connecting, and BEGIN when another process holds
        the lock (until `deadline`). Whatever fails, the connection is
        discarded, so the next group starts clean.
        """
        if self._file is not None:
            self._file.check(writable=True)
        if self._sqlite_writer is None:
            assert self._sqlite_writer_engine is not None
            self._sqlite_writer = await self._on_writer_thread(self._sqlite_writer_engine.connect)
        connection = self._sqlite_writer
        try:
            if not sqlite.begin_now(connection):
                await self._on_writer_thread(
                    sqlite.begin_waiting, connection, deadline - time.monotonic()
                )
            results = work(connection)
            checkpointer = self._checkpointer
            catch_up = checkpointer is not None and checkpointer.take_catch_up()
            await self._on_writer_thread(self._commit, connection, catch_up)
        except BaseException:
            self._sqlite_writer = None
            await self._on_writer_thread(_discard, connection)
            raise
        if checkpointer is not None:
            checkpointer.committed()
        return results

    def _commit(self, connection: Connection, catch_up: bool) -> None:
        """COMMIT (the fsync), then make sure it went to the file at the database's path."""
        connection.commit()
        if self._file is not None:
            # Committed into a file no longer at its path, it is lost at the next
            # start: the group fails, so nothing of it is acknowledged.
            self._file.check(writable=False)
        if catch_up:
            sqlite.catch_up_checkpoint(connection)

    async def _run_group(self, jobs: list[WriteJob[Any]], deadline: float) -> list[Outcome]:
        if self._sqlite_writer_engine is not None:

            async def in_transaction(work: Callable[[Connection], list[Any]]) -> list[Any]:
                return await self._sqlite_transaction(work, deadline)

            return await run_jobs_in_transactions(in_transaction, jobs)
        async with self.engine.connect() as connection:

            async def transaction(work: Callable[[Connection], list[Any]]) -> list[Any]:
                async with connection.begin():
                    return await connection.run_sync(work)

            return await run_jobs_in_transactions(transaction, jobs)
