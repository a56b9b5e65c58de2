"""The `wallet-rpc` command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from wallet_rpc import __version__
from wallet_rpc.cli_approvals import add_approvals_parser, run_approvals
from wallet_rpc.cli_operations import COMMANDS as OPERATIONS
from wallet_rpc.cli_operations import add_operations_parser, run_operations
from wallet_rpc.config import Config, ConfigError, resolve_config
from wallet_rpc.http.app import create_app
from wallet_rpc.http.runner import run_app
from wallet_rpc.storage import repository
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import StorageKeyError, check_storage_key, sealer_for

EXIT_USAGE = 2
EXIT_NOT_FOUND = 1
# In-flight requests get this long after SIGTERM: inside Docker's default 10 s grace period.
SHUTDOWN_GRACE_SECONDS = 8.0


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        help=(
            "TOML config file (default: $WALLET_RPC_CONFIG, else built-in settings as in"
            " config.example.toml); WALLET_RPC_<SECTION>_<KEY> variables override it"
        ),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallet-rpc",
        description="A Mina wallet for private credentials, served as JSON-RPC 2.0 over HTTP.",
    )
    parser.add_argument("--version", action="version", version=f"wallet-rpc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve JSON-RPC (migrates the database first)")
    serve.description = "Serve the wallet's JSON-RPC endpoint. Stops cleanly on SIGTERM."
    _add_config_option(serve)
    serve.add_argument("--host", help="address to listen on (overrides [server] host)")
    serve.add_argument("--port", type=int, help="port to listen on (overrides [server] port)")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.description = "Apply every pending migration to the configured database."
    _add_config_option(migrate)

    credentials = commands.add_parser("credentials", help="list, show or delete stored credentials")
    credentials.description = "Read or delete the credentials in the configured database."
    actions = credentials.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list every stored credential")
    _add_config_option(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    show = actions.add_parser("show", help="print one credential as JSON")
    _add_config_option(show)
    show.add_argument("id", type=int, help="the credential's id (see `credentials list`)")
    delete = actions.add_parser("delete", help="delete one credential")
    _add_config_option(delete)
    delete.add_argument("id", type=int, help="the credential's id (see `credentials list`)")
    add_approvals_parser(commands, _add_config_option)
    add_operations_parser(commands, _add_config_option)
    return parser


def _config(arguments: argparse.Namespace) -> Config:
    path: Path | None = arguments.config
    # WALLET_RPC_<SECTION>_<KEY> variables override the file; WALLET_RPC_CONFIG names it.
    return resolve_config(path, os.environ)


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # not built for Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _freeze_startup_heap(app: web.Application) -> None:
    """Keep what startup built (Poseidon tables, SQLAlchemy, pydantic schemas) out of
    the cyclic collector's view: it lives as long as the process, and each full
    collection scanning it stalled every request for ~60 ms (docs/decisions.md)."""
    gc.freeze()


def _serve(config: Config, arguments: argparse.Namespace) -> int:
    server = config.server.model_copy(
        update={
            key: value
            for key, value in (("host", arguments.host), ("port", arguments.port))
            if value is not None
        }
    )
    config = config.model_copy(update={"server": server})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(config)
    # Runs after every cleanup context has opened its resources.
    app.on_startup.append(_freeze_startup_heap)
    print(f"wallet-rpc {__version__} serving on http://{server.host}:{server.port}/", flush=True)
    try:
        run_app(
            app,
            host=server.host,
            port=server.port,
            loop=_event_loop(),
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        )
    except StorageKeyError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _with_database(config: Config, action: str, credential_id: int | None) -> object:
    database = Database(config.database.url)
    sealer = sealer_for(config.storage.encryption_key_bytes)
    try:
        await database.migrate()
        await check_storage_key(database, sealer, register=False)
        if action == "list":
            entries = await repository.list_credentials(database, sealer)
            return [entry.as_json() for entry in entries]
        assert credential_id is not None
        if action == "show":
            entry = await repository.get_credential(database, credential_id, sealer)
            return None if entry is None else entry.as_json()
        if action == "delete":
            await database.open()
            return await database.write(repository.delete_credential(credential_id)) or None
        return None
    finally:
        await database.close()


def _credentials(config: Config, arguments: argparse.Namespace) -> int:
    action: str = arguments.action
    try:
        result = asyncio.run(_with_database(config, action, getattr(arguments, "id", None)))
    except StorageKeyError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE
    if action == "list":
        assert isinstance(result, list)
        if arguments.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            for entry in result:
                print(f"{entry['id']}\t{entry['stored_at']}\t{entry['origin']}\t{entry['owner']}")
        return 0
    if result is None:
        print(f"wallet-rpc: no credential with id {arguments.id}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if action == "show":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"deleted credential {arguments.id}")
    return 0


def _migrate(config: Config) -> int:
    async def run() -> None:
        database = Database(config.database.url)
        try:
            await database.migrate()
        finally:
            await database.close()

    asyncio.run(run())
    print("database is up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        config = _config(arguments)
    except ConfigError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.command == "serve":
        return _serve(config, arguments)
    if arguments.command == "migrate":
        return _migrate(config)
    if arguments.command == "approvals":
        return run_approvals(config, arguments)
    if arguments.command in OPERATIONS:
        return run_operations(config, arguments)
    return _credentials(config, arguments)
