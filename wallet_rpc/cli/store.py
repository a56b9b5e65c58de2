"""What every command shares: exit statuses, one-line refusals, the database opened and closed.

A command that only reads never creates a database nor changes its schema:
it finds the SQLite file and the latest schema revision, or stops with one
line. A command that writes brings the schema up to date first, as `serve`
does.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from wallet_rpc.config import Config
    from wallet_rpc.storage.database import Database
    from wallet_rpc.storage.sealing import Sealer

T = TypeVar("T")
Command = Callable[["Config", argparse.Namespace], int]
AddParser = Callable[..., argparse.ArgumentParser]

# Nothing to act on: no such credential, no such waiting request.
EXIT_NOT_FOUND = 1
# The command could not start: what stands in the way is said in one line.
EXIT_CANNOT_START = 1
# The configuration, the arguments or the database do not fit the command.
EXIT_USAGE = 2


class CannotProceed(Exception):
    """A command that stops before it acts; the message is one line for the operator."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


class Store(NamedTuple):
    database: Database
    sealer: Sealer


def run_command(work: Coroutine[Any, Any, T]) -> T:
    """A command's async work, on an event loop of its own (asyncio loads only when one runs)."""
    import asyncio

    return asyncio.run(work)


def shown_url(url: str) -> str:
    """The database as an operator names it: an SQLite file's path, else the URL less password."""
    from sqlalchemy.engine import make_url

    path = sqlite_file(url)
    if path is not None:
        return str(path.absolute())
    return make_url(url).render_as_string(hide_password=True)


def failure_reason(error: BaseException) -> str:
    """One line saying why a database or socket operation failed, without a traceback."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        text = str(error) or type(error).__name__
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for another backend or an in-memory database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


async def _require_latest_schema(database: Database) -> None:
    from wallet_rpc.storage.database import SCHEMA_HEAD, schema_revision

    # The usual case, a database at the latest revision, without loading Alembic.
    if await database.query(schema_revision) == SCHEMA_HEAD:
        return
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from wallet_rpc.storage.database import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(database.url))
    latest = set(scripts.get_heads())

    def current_heads(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    current = await database.query(current_heads)
    if current == latest:
        return
    shown = shown_url(database.url)
    if not current:
        raise CannotProceed(
            f"the database at {shown} has no wallet-rpc schema; `wallet-rpc migrate` creates it"
        )
    known = {script.revision for script in scripts.walk_revisions()}
    at = ", ".join(sorted(current))
    if not current <= known:
        raise CannotProceed(
            f"the database at {shown} is at schema revision {at}, which this version of"
            " wallet-rpc does not know"
        )
    raise CannotProceed(
        f"the database at {shown} is at schema revision {at}, not the latest"
        f" ({', '.join(sorted(latest))}); `wallet-rpc migrate` brings it up to date"
    )


@contextlib.asynccontextmanager
async def open_store(
    config: Config, *, writes: bool = False, check_key: bool = True
) -> AsyncIterator[Store]:
    """The configured database and sealer, checked, for one command; closed on leaving.

    `writes`: migrate first and start the writer; otherwise the database must
    exist at the latest revision. `check_key`: refuse a configured key (or its
    absence) that does not fit the stored bodies.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from wallet_rpc.errors import StorageUnavailable
    from wallet_rpc.storage.database import Database, SchemaError
    from wallet_rpc.storage.sealing import StorageKeyError, check_storage_key, sealer_for

    url = config.database.url
    path = sqlite_file(url)
    if not writes and path is not None and not path.exists():
        raise CannotProceed(f"no database at {path.absolute()}; `wallet-rpc migrate` creates one")
    database = Database(url)
    sealer = sealer_for(config.storage.encryption_key_bytes)
    try:
        try:
            if writes:
                await database.migrate()
            else:
                await _require_latest_schema(database)
            if check_key:
                # The key that opens stored credentials opens waiting ones too.
                await check_storage_key(database, sealer, register=False)
        except StorageKeyError as error:
            raise CannotProceed(str(error)) from None
        except (SQLAlchemyError, SchemaError, OSError, StorageUnavailable) as error:
            raise CannotProceed(
                f"cannot open the database at {shown_url(url)}: {failure_reason(error)}"
            ) from None
        if writes:
            await database.open()
        yield Store(database, sealer)
    finally:
        await database.close()
