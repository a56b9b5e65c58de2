"""The database: reads on their own connections, writes through one group-commit writer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from wallet_rpc.storage import postgres, sqlite
from wallet_rpc.storage.writer import (
    GroupCommitWriter,
    Outcome,
    WriteJob,
    run_jobs_in_transactions,
)

T = TypeVar("T")
ReadJob = Callable[[Connection], T]

# migrations/ at the top of the repository, installed inside the package
# (pyproject.toml maps it), so a checkout and an installed wheel find it alike.
MIGRATIONS_DIR = Path(str(resources.files("wallet_rpc.migrations")))
# A health check must answer (503) even when the database host does not.
HEALTH_CHECK_TIMEOUT_SECONDS = 5.0


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade_on(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _select_one(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))


class Database:
    """Opened with `open()`, closed with `close()`; reads on a pool, writes through one writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.engine: AsyncEngine
        self._read_engine: AsyncEngine
        self._sqlite_writer_engine: Engine | None = None
        self._sqlite_writer_thread: ThreadPoolExecutor | None = None
        self._checkpointer: sqlite.WalCheckpointer | None = None
        self._sqlite_writer: Connection | None = None
        self._sqlite_reader_engine: Engine | None = None
        self._sqlite_reader: Connection | None = None
        if self.is_sqlite:
            self.engine = self._read_engine = sqlite.async_engine(url)
            # SQLite reads are indexed lookups of a few microseconds that WAL
            # never blocks: run inline they cost less than a hop to any thread
            # (see docs/decisions.md, "Reads on SQLite").
            self._sqlite_reader_engine = sqlite.reader_engine(url)
        else:
            self.engine = postgres.writer_engine(url)
            self._read_engine = postgres.reader_engine(url)
        self.writer = GroupCommitWriter(self._run_group)

    async def migrate(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_on, self.url)

    async def open(self) -> None:
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
        """Run a write job in the writer's next group; what it raises, the caller gets."""
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


def _commit(connection: Connection, transaction: Any, catch_up: bool) -> None:
    """The writer's COMMIT (its fsync) and, when due, the checkpoint that lets the WAL restart."""
    transaction.commit()
    if catch_up:
        sqlite.catch_up_checkpoint(connection)
