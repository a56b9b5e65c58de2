"""The two backends of the suite: SQLite always, PostgreSQL when one is named.

WALLET_RPC_TEST_POSTGRES_URL names a PostgreSQL database whose role may
create databases (`.ci/run` sets one up). The suite migrates one template
database per run and gives each test a fresh copy of it. A copy a test is done
with is emptied and given to the next test if its schema is still the
template's, and dropped otherwise: emptying a few tables costs a small part of
creating a database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from wallet_rpc.storage.database import Database

POSTGRES_URL_VARIABLE = "WALLET_RPC_TEST_POSTGRES_URL"
SKIP_REASON = f"PostgreSQL not configured: set {POSTGRES_URL_VARIABLE} (.ci/run does)"
DATABASE_PREFIX = "wallet_rpc_test_"
# What a database must still have to be emptied and reused: the template's
# revision, columns and indexes.
SCHEMA_FINGERPRINT = """
SELECT concat_ws(
    '|',
    (SELECT string_agg(version_num, ',') FROM alembic_version),
    (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ','
                       ORDER BY table_name, ordinal_position)
     FROM information_schema.columns WHERE table_schema = 'public'),
    (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes
     WHERE schemaname = 'public')
)
"""
OTHER_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""

T = TypeVar("T")


def postgres_url_from_environment() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, whatever loop the caller may have."""

    async def call() -> T:
        return await make()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, call()).result()


class PostgresCluster:
    """Creates and drops the databases of one test run on the named server."""

    def __init__(self, url: str) -> None:
        self._url: URL = make_url(url).set(drivername="postgresql+asyncpg")
        self._run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
        self._serial = 0
        self.template: str | None = None
        self._copy_clause = ""
        self._template_schema = ""
        self._emptied: list[str] = []

    def url_of(self, database: str) -> str:
        """The wallet-rpc `database.url` of one database on this server."""
        return self._url.set(database=database).render_as_string(hide_password=False)

    def _dsn(self, database: str | None = None) -> str:
        url = self._url.set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def execute(self, *statements: str, database: str | None = None) -> list[Any]:
        """Run statements one by one (outside a transaction); the rows of the last."""

        async def run() -> list[Any]:
            connection = await asyncpg.connect(self._dsn(database), timeout=10)
            try:
                rows: list[Any] = []
                for statement in statements:
                    rows = list(await connection.fetch(statement))
                return rows
            finally:
                await connection.close()

        return run_async(run)

    def _new_name(self, kind: str) -> str:
        self._serial += 1
        return f"{DATABASE_PREFIX}{self._run_id}_{kind}{self._serial}"

    def drop_abandoned(self) -> None:
        """Drop databases left by runs whose process is gone (killed, or stopped mid-test)."""
        rows = self.execute(
            f"SELECT datname FROM pg_database WHERE starts_with(datname, '{DATABASE_PREFIX}')"
        )
        for (name,) in rows:
            pid = name.removeprefix(DATABASE_PREFIX).split("_")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                self.drop_database(name)

    def prepare_template(self) -> None:
        """One database migrated to head, which every test's database copies."""
        self.drop_abandoned()
        # A file copy of the small template costs a tenth of the CPU of PostgreSQL
        # 15's default strategy, which writes every page of it to the WAL.
        (version,) = self.execute("SHOW server_version_num")[0]
        if int(version) >= 150000:
            self._copy_clause = " STRATEGY FILE_COPY"
        template = self._new_name("template")
        self.execute(f'CREATE DATABASE "{template}"')
        database = Database(self.url_of(template))

        async def migrate() -> None:
            try:
                await database.migrate()
            finally:
                await database.close()

        run_async(migrate)
        self.template = template
        self._template_schema = self.execute(SCHEMA_FINGERPRINT, database=template)[0][0]

    def create_database(self, *, migrated: bool = True) -> str:
        if migrated and self._emptied:
            return self._emptied.pop()
        name = self._new_name("db")
        if migrated:
            assert self.template is not None
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{self._copy_clause}')
        else:
            self.execute(f'CREATE DATABASE "{name}"')
        return name

    @contextmanager
    def empty_database(self) -> Iterator[str]:
        """The name of a database with no schema at all, dropped afterwards."""
        name = self.create_database(migrated=False)
        try:
            yield name
        finally:
            self.drop_database(name)

    def release_database(self, name: str) -> None:
        """A test is done with a migrated database: keep it, emptied, or drop it."""
        if self._empty_if_as_migrated(name):
            self._emptied.append(name)
        else:
            self.drop_database(name)

    def _empty_if_as_migrated(self, name: str) -> bool:
        """Empty every table if no one else is connected and the schema is the template's."""

        async def run() -> bool:
            connection = await asyncpg.connect(self._dsn(name), timeout=10)
            try:
                await connection.execute("SET lock_timeout = '2s'")
                if await connection.fetchval(OTHER_SESSIONS) != 0:
                    return False
                if await connection.fetchval(SCHEMA_FINGERPRINT) != self._template_schema:
                    return False
                tables = await connection.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
                listed = ", ".join(f'"{table}"' for (table,) in tables)
                await connection.execute(f"TRUNCATE {listed} RESTART IDENTITY")
                return True
            finally:
                await connection.close()

        try:
            return run_async(run)
        except (OSError, asyncpg.PostgresError):
            return False

    def drop_database(self, name: str) -> None:
        # FORCE: a server a test left running (or killed) may still hold connections.
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        while self._emptied:
            self.drop_database(self._emptied.pop())
        if self.template is not None:
            self.drop_database(self.template)
            self.template = None


def drop_table(database_url: str, table: str) -> None:
    """Break a test's database behind the server's back, whichever the backend."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            connection.execute(f'DROP TABLE "{table}"')
        return
    database = url.database
    assert database is not None
    PostgresCluster(database_url).execute(f'DROP TABLE "{table}"', database=database)
