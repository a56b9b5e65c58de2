"""The database: an async engine for reads and one group-commit writer for writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wallet_rpc.storage.sqlite_driver import driver_of
from wallet_rpc.storage.writer import (
    GroupCommitWriter,
    Outcome,
    WriteJob,
    run_jobs_in_transactions,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)
ReadJob = Callable[[Connection], T]

# migrations/ at the top of the repository, installed inside the package
# (pyproject.toml maps it), so a checkout and an installed wheel find it alike.
MIGRATIONS_DIR = Path(str(resources.files("wallet_rpc.migrations")))
SQLITE_BUSY_TIMEOUT_MS = 10_000
# A health check must answer (503) even when the database host does not.
HEALTH_CHECK_TIMEOUT_SECONDS = 5.0
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10.0
# Connections per process: reads, and the writer's (one group at a time). No
# overflow: a burst waits a moment for a pooled connection rather than opening
# and closing one per request, whose TLS and SCRAM handshakes cost more than the
# query. Replicas multiply these; together they must stay under the server's
# max_connections (100 by default).
POSTGRES_READ_POOL_SIZE = 10
POSTGRES_WRITE_POOL_SIZE = 2
POSTGRES_POOL_TIMEOUT_SECONDS = 30.0
# Commits between two WAL checkpoints (see WalCheckpointer).
SQLITE_CHECKPOINT_EVERY_COMMITS = 64


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit has reached the disk before the client hears "stored".
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    # The writer's COMMITs never checkpoint; WalCheckpointer does, on its own thread.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _use_explicit_begin(engine: Engine) -> None:
    """Make pysqlite start transactions with BEGIN IMMEDIATE, as SQLAlchemy's docs advise.

    IMMEDIATE takes the write lock at the start, so a writer in another
    process makes us wait (busy_timeout) instead of failing mid-transaction.
    """

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade_on(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Database:
    """Opened with `open()`, closed with `close()`; reads on a pool, writes through one writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.engine: AsyncEngine
        self._read_engine: AsyncEngine
        if self.is_sqlite:
            self.engine = self._read_engine = create_async_engine(url)
        else:
            # Migrations and the writer: transactions, and a connection checked
            # (pre-ping) before each group, so that a write is never the first to
            # find a connection the server dropped (restart, failover).
            self.engine = _postgres_engine(url, POSTGRES_WRITE_POOL_SIZE, pre_ping=True)
            # Reads: autocommit (no BEGIN and ROLLBACK round trips around each
            # one) and no pre-ping, which would double their cost; a read that
            # finds its connection dropped is run again (see _read).
            self._read_engine = _postgres_engine(
                url, POSTGRES_READ_POOL_SIZE, pre_ping=False, isolation_level="AUTOCOMMIT"
            )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _set_sqlite_pragmas)
        self._sqlite_writer_engine: Engine | None = None
        self._sqlite_writer_thread: ThreadPoolExecutor | None = None
        self._checkpointer: WalCheckpointer | None = None
        self._sqlite_writer: Connection | None = None
        self._sqlite_reader_engine: Engine | None = None
        self._sqlite_reader: Connection | None = None
        if self.is_sqlite:
            # SQLite reads are indexed lookups of a few microseconds that WAL
            # never blocks: run inline they cost less than a hop to any thread
            # (see docs/decisions.md, "Reads on SQLite").
            self._sqlite_reader_engine = _sqlite_sync_engine(url)
        self.writer = GroupCommitWriter(self._run_group)

    async def migrate(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_on, self.url)

    async def open(self) -> None:
        if self.is_sqlite:
            # The writer uses the sync driver; its commits (the fsyncs) run on a
            # thread of its own.
            self._sqlite_writer_engine = _sqlite_sync_engine(self.url)
            _use_explicit_begin(self._sqlite_writer_engine)
            event.listen(self._sqlite_writer_engine, "connect", _no_automatic_checkpoints)
            self._sqlite_writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._checkpointer = WalCheckpointer(
                _sqlite_sync_engine(self.url), SQLITE_CHECKPOINT_EVERY_COMMITS
            )
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
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(HEALTH_CHECK_TIMEOUT_SECONDS):
                await self._read(_select_one)
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return True

    async def write(self, job: WriteJob[T]) -> T:
        return await self.writer.submit(job)

    async def query(self, job: ReadJob[T]) -> T:
        """Run a read-only job and return what it returns."""
        if self._sqlite_reader_engine is not None:
            if self._sqlite_reader is None:
                self._sqlite_reader = self._sqlite_reader_engine.connect()
            try:
                return job(self._sqlite_reader)
            finally:
                # Autocommit driver: this only ends SQLAlchemy's own bookkeeping.
                self._sqlite_reader.rollback()
        return await self._read(job)

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

    async def _sqlite_transaction(self, work: Callable[[Connection], list[Any]]) -> list[Any]:
        """Run work in a transaction on the event loop; only its COMMIT goes to the thread.

        Before COMMIT, SQLite in WAL mode only appends to its page cache: the
        statements take microseconds of CPU. The COMMIT is the fsync, which
        releases the GIL. Running the statements on the thread instead made
        them wait for the GIL behind the request handlers (see docs/decisions.md).
        """
        if self._sqlite_writer is None:
            assert self._sqlite_writer_engine is not None
            self._sqlite_writer = self._sqlite_writer_engine.connect()
        connection = self._sqlite_writer
        transaction = connection.begin()
        try:
            results = work(connection)
            loop = asyncio.get_running_loop()
            checkpointer = self._checkpointer
            catch_up = checkpointer is not None and checkpointer.take_catch_up()
            await loop.run_in_executor(
                self._sqlite_writer_thread, _commit, connection, transaction, catch_up
            )
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        if checkpointer is not None:
            checkpointer.committed()
        return results

    async def _run_group(self, jobs: list[WriteJob[Any]]) -> list[Outcome]:
        if self._sqlite_writer_engine is not None:
            return await run_jobs_in_transactions(self._sqlite_transaction, jobs)
        async with self.engine.connect() as connection:

            async def transaction(work: Callable[[Connection], list[Any]]) -> list[Any]:
                async with connection.begin():
                    return await connection.run_sync(work)

            return await run_jobs_in_transactions(transaction, jobs)


_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


class WalCheckpointer:
    """Copies the WAL into the database file without making a commit wait for it.

    Left to SQLite, the COMMIT that takes the WAL past 1000 pages runs the
    checkpoint itself, fsyncs included, and every store of the next group
    waits for it: such commits took 20-85 ms where the others took 0.3 ms
    (docs/decisions.md). Here a PASSIVE checkpoint, which blocks neither the
    writer nor readers, copies the bulk on a thread and connection of its own.
    The writer commits meanwhile, so that one never copies everything, and
    SQLite restarts the WAL from its start only once everything is copied:
    after each, the writer's next commit is followed by a second checkpoint on
    its own connection, which has only the last few commits to copy.
    """

    def __init__(self, engine: Engine, every_commits: int) -> None:
        self._engine = engine
        self._every_commits = every_commits
        self._commits = 0
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        self._connection: Any = None
        self._running: asyncio.Future[None] | None = None
        self._catch_up = False

    def committed(self) -> None:
        """Count a commit; start a checkpoint every `every_commits` (one at a time)."""
        self._commits += 1
        if self._commits < self._every_commits or self._running is not None:
            return
        self._commits = 0
        self._running = asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)
        self._running.add_done_callback(self._finished)

    def take_catch_up(self) -> bool:
        """Whether the writer should checkpoint after its next commit (asked once per commit)."""
        due, self._catch_up = self._catch_up, False
        return due

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        self._connection.driver_connection.execute(_CHECKPOINT).fetchall()

    def _finished(self, running: asyncio.Future[None]) -> None:
        self._running = None
        if running.cancelled():
            return
        if running.exception() is not None:
            # The next one copies what this one could not.
            logger.warning("WAL checkpoint failed", exc_info=running.exception())
            return
        self._catch_up = True

    async def close(self) -> None:
        if self._running is not None:
            with contextlib.suppress(Exception):
                await self._running
        if self._connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._connection.close)
            self._connection = None
        self._thread.shutdown(wait=True)
        self._engine.dispose()


def _commit(connection: Connection, transaction: Any, catch_up: bool) -> None:
    """The writer's COMMIT (its fsync) and, when due, the checkpoint that lets the WAL restart."""
    transaction.commit()
    if catch_up:
        try:
            driver_of(connection).execute(_CHECKPOINT).fetchall()
        except Exception:  # the commit stands; the next catch-up copies what this missed
            logger.warning("WAL checkpoint failed", exc_info=True)


def _sqlite_sync_engine(url: str) -> Engine:
    engine = create_engine(
        make_url(url).set(drivername="sqlite"),
        pool_size=1,
        max_overflow=0,
        # The writer's COMMIT runs on its thread, the rest of its work on the loop's.
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _set_sqlite_pragmas)

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours to begin (see _use_explicit_begin); a reader
        # never holds one open between queries.
        dbapi_connection.isolation_level = None

    return engine


def _select_one(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))


def _postgres_engine(
    url: str, pool_size: int, *, pre_ping: bool, isolation_level: str | None = None
) -> AsyncEngine:
    options: dict[str, Any] = (
        {} if isolation_level is None else {"isolation_level": isolation_level}
    )
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POSTGRES_POOL_TIMEOUT_SECONDS,
        pool_pre_ping=pre_ping,
        connect_args={
            "timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
            "server_settings": {"application_name": "wallet-rpc"},
        },
        **options,
    )
