"""SQLite set-up: the engines and connections, the WAL checkpointer, and raw driver statements.

Reads and the writer's statements go to the pysqlite driver on connections
of their own (docs/decisions.md, "Reads on SQLite" and "The store path");
migrations run on a thread, on the same driver. No async engine: its
extension imports the SQLAlchemy ORM (6 MiB, a tenth of start-up). The
reader's and writer's connections open the file only if it exists
(`mode=rw`): a file removed while serving is never replaced by a new, empty
one, and `DatabaseFile` notices it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from wallet_rpc.errors import StorageUnavailable
from wallet_rpc.storage.faults import FILE_GONE, FILE_REPLACED, READ_ONLY, storage_fault

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# Reads run on the event loop: in WAL mode they never wait for a writer, and
# whatever else makes them wait must not hold every other request for long.
READ_BUSY_TIMEOUT_MS = 500
# Commits between two WAL checkpoints (see WalCheckpointer).
CHECKPOINT_EVERY_COMMITS = 64
_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"
# SQLAlchemy's own text form of a DateTime on SQLite; everything stored is UTC.
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit has reached the disk before the client hears "stored".
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def migration_engine(url: str) -> Engine:
    """Migrations, run on a thread: the one engine that creates a missing file."""
    engine = create_engine(make_url(url).set(drivername="sqlite"), poolclass=NullPool)
    event.listen(engine, "connect", _set_pragmas)
    return engine


def database_path(url: str) -> str | None:
    """The absolute path of an SQLite URL's file; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return os.path.abspath(database)


def _existing_file_url(url: str) -> URL:
    path = database_path(url)
    if path is None:
        return make_url(url).set(drivername="sqlite")
    return URL.create("sqlite", database=f"file:{quote(path)}", query={"mode": "rw", "uri": "true"})


def _sync_engine(url: str) -> Engine:
    engine = create_engine(
        _existing_file_url(url),
        pool_size=1,
        max_overflow=0,
        # The writer's COMMIT runs on its thread, the rest of its work on the loop's.
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _set_pragmas)

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours to begin (see writer_engine); a reader never
        # holds one open between queries.
        dbapi_connection.isolation_level = None

    return engine


def writer_engine(url: str) -> Engine:
    """The writer's: explicit BEGIN IMMEDIATE, and no checkpoints in its commits.

    IMMEDIATE takes the write lock at the start, as SQLAlchemy's docs advise
    for pysqlite, so a writer in another process makes us wait (busy_timeout)
    instead of failing mid-transaction. WalCheckpointer does the checkpoints.
    """
    engine = _sync_engine(url)

    @event.listens_for(engine, "connect")
    def _writer_settings(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
        # The writer never waits for the lock unasked: see begin_now and begin_waiting.
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine


_BEGIN = "BEGIN IMMEDIATE"


def begin_now(connection: Connection) -> bool:
    """Take the write lock if no other process holds it; False, at once, if one does.

    Run on the event loop: it never waits, so the common case costs no hop to
    the writer's thread. IMMEDIATE takes the write lock at the start, as
    SQLAlchemy's docs advise for pysqlite, so a writer in another process
    stops us here rather than mid-transaction.
    """
    try:
        driver_of(connection).execute(_BEGIN)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
            return False
        raise
    connection.begin()  # SQLAlchemy's bookkeeping; the driver's BEGIN is already done
    return True


def begin_waiting(connection: Connection, seconds: float) -> None:
    """Wait up to `seconds` for another process to release the write lock, then take it.

    Runs on the writer's thread. Past the wait, SQLite answers "database is
    locked" (SQLITE_BUSY), a storage fault.
    """
    driver = driver_of(connection)
    driver.execute(f"PRAGMA busy_timeout={max(0, int(seconds * 1000))}")
    try:
        driver.execute(_BEGIN)
    finally:
        driver.execute("PRAGMA busy_timeout=0")
    connection.begin()


def reader_engine(url: str) -> Engine:
    """Reads, run inline on the event loop: a connection that cannot write."""
    engine = _sync_engine(url)

    @event.listens_for(engine, "connect")
    def _reader_settings(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=1")
        dbapi_connection.execute(f"PRAGMA busy_timeout={READ_BUSY_TIMEOUT_MS}")

    return engine


def checkpoint_engine(url: str) -> Engine:
    return _sync_engine(url)


def driver_of(connection: Connection) -> sqlite3.Connection:
    """The pysqlite connection under a SQLAlchemy one, for the few statements on the hot path.

    SQLAlchemy's execution path around a statement costs more than SQLite takes
    to run it (docs/decisions.md, "The store path"); these statements go to the
    driver directly, in the same transaction as the rest.
    """
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def sqlite_datetime(moment: datetime) -> str:
    """A moment as SQLAlchemy stores a DateTime on SQLite, for raw statements."""
    return moment.astimezone(UTC).strftime(_DATETIME_FORMAT)


class MultiRowInsert:
    """An INSERT of many rows as one statement, `INSERT .. VALUES (..), (..), ..`.

    `executemany` binds and steps once per row, and the driver releases the
    GIL around each step and takes it back after (on a thread, a wait for the
    event loop each time). One statement is one bind and one step.
    """

    # 500 rows of up to 8 columns stay far below SQLite's 32766 variables.
    max_rows = 500

    def __init__(self, head: str, columns: int, tail: str = "") -> None:
        self._head = head
        self._row = "(" + ", ".join(["?"] * columns) + ")"
        self._tail = tail
        self._statements: dict[int, str] = {}

    def statement(self, rows: int) -> str:
        statement = self._statements.get(rows)
        if statement is None:
            placeholders = ", ".join([self._row] * rows)
            statement = self._statements[rows] = "".join((self._head, placeholders, self._tail))
        return statement

    def execute(self, driver: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        """Insert at most `max_rows` rows with one statement."""
        assert 0 < len(rows) <= self.max_rows
        values = [value for row in rows for value in row]
        return driver.execute(self.statement(len(rows)), values)

    def execute_all(self, driver: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        for start in range(0, len(rows), self.max_rows):
            self.execute(driver, rows[start : start + self.max_rows])


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
    its own connection (`catch_up`), which has only the last few commits to copy.
    """

    def __init__(self, engine: Engine, every_commits: int = CHECKPOINT_EVERY_COMMITS) -> None:
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
            logger.warning("WAL checkpoint failed: %s", running.exception())
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


def catch_up_checkpoint(connection: Connection) -> None:
    """The checkpoint after a commit that lets the WAL restart (see WalCheckpointer)."""
    try:
        driver_of(connection).execute(_CHECKPOINT).fetchall()
    except Exception as error:  # noqa: BLE001 - the commit stands; the next catch-up copies it
        logger.warning("WAL checkpoint failed: %s", error)


class DatabaseFile:
    """The file the server opened, told apart from whatever its path names later.

    Removed, or replaced by another file (another device or inode), it is no
    longer the database a restarted server would open: a write committed to
    it would be lost, so it must not be acknowledged.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None

    def remember(self) -> None:
        """Note which file the path names now (at open)."""
        status = os.stat(self.path)
        self._identity = (status.st_dev, status.st_ino)

    def problem(self, *, writable: bool) -> str | None:
        """Why writes there cannot be acknowledged now, or None.

        `writable` also asks whether the file may be written through its path
        (os.access honours read-only mounts and immutable files, even for root).
        """
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return FILE_GONE
        except OSError as error:
            fault = storage_fault(error)
            return FILE_GONE if fault is None else fault.reason
        if (status.st_dev, status.st_ino) != self._identity:
            return FILE_REPLACED
        if writable and not os.access(self.path, os.W_OK):
            return READ_ONLY
        return None

    def check(self, *, writable: bool) -> None:
        """Raise StorageUnavailable if `problem` finds one."""
        problem = self.problem(writable=writable)
        if problem is not None:
            raise StorageUnavailable(problem)
