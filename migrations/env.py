"""Alembic environment, async, after Alembic's asyncio cookbook.

The database URL comes from (first found): a connection handed in by
wallet-rpc itself, `-x database_url=...`, `-x config=PATH` (a wallet-rpc
config file), or the built-in default; WALLET_RPC_* variables apply to the
last two as they do for `wallet-rpc`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from wallet_rpc.config import resolve_config
from wallet_rpc.storage.tables import metadata

# Several replicas may start at once against one PostgreSQL database.
_MIGRATION_LOCK_ID = 0x77616C6C6574


def _database_url() -> str:
    arguments = context.get_x_argument(as_dictionary=True)
    if "database_url" in arguments:
        return arguments["database_url"]
    # As `wallet-rpc migrate` reads it: the file, with WALLET_RPC_* variables on top.
    path = Path(arguments["config"]) if "config" in arguments else None
    return resolve_config(path, os.environ).database.url


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_async())
    else:
        _run_migrations(connection)


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
