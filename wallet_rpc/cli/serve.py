"""`wallet-rpc serve` and `wallet-rpc migrate`: the server, and the schema it needs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from wallet_rpc.cli.store import (
    EXIT_CANNOT_START,
    AddParser,
    CannotProceed,
    run_command,
    shown_url,
    sqlite_file,
)

if TYPE_CHECKING:
    from aiohttp import web

    from wallet_rpc.config import Config
    from wallet_rpc.service.verification import SignaturePool

# In-flight requests get this long after SIGTERM: inside Docker's default 10 s grace period.
SHUTDOWN_GRACE_SECONDS = 8.0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0-65535): {text!r}")
    return port


def add_parsers(add: AddParser, config: argparse.ArgumentParser) -> None:
    serve_parser = add(
        "serve",
        parents=[config],
        help="serve JSON-RPC (migrates the database first)",
        description="Serve the wallet's JSON-RPC endpoint. Stops cleanly on SIGTERM.",
    )
    serve_parser.add_argument("--host", help="address to listen on (overrides [server] host)")
    serve_parser.add_argument(
        "--port", type=_port, help="port to listen on (overrides [server] port)"
    )
    serve_parser.set_defaults(func=serve)
    migrate_parser = add(
        "migrate",
        parents=[config],
        help="bring the database schema up to date",
        description="Apply every pending migration to the configured database.",
    )
    migrate_parser.set_defaults(func=migrate)


class _StartUp:
    """How far start-up came, to say what stopped it."""

    def __init__(self) -> None:
        self.opened = False

    async def resources_opened(self, app: web.Application) -> None:
        """Runs after every cleanup context has opened its resources (the database first)."""
        import gc

        self.opened = True
        # Keep what start-up built (Poseidon tables, SQLAlchemy, pydantic schemas) out of
        # the cyclic collector's view: it lives as long as the process, and each full
        # collection scanning it stalled every request for ~60 ms (docs/decisions.md).
        gc.freeze()


def serve(config: Config, arguments: argparse.Namespace) -> int:
    signature_pool = _started_signature_pool(config)
    try:
        return _serve(config, arguments, signature_pool)
    finally:
        # The application leaves a pool it was given to its giver.
        if signature_pool is not None:
            signature_pool.close()


def _started_signature_pool(config: Config) -> SignaturePool | None:
    """The signature workers, started before the server's imports: their fork server
    loads on another core meanwhile, and they are ready by the first check."""
    if not config.verification.native:
        return None
    from wallet_rpc.service.verification import SignaturePool

    pool = SignaturePool()
    pool.start()
    return pool


def _serve(
    config: Config, arguments: argparse.Namespace, signature_pool: SignaturePool | None
) -> int:
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from wallet_rpc import __version__
    from wallet_rpc.errors import StorageUnavailable
    from wallet_rpc.http.app import create_app
    from wallet_rpc.http.runner import run_app
    from wallet_rpc.storage.database import SchemaError
    from wallet_rpc.storage.sealing import StorageKeyError

    _open_sqlite_file(config.database.url)
    overrides = {"host": arguments.host, "port": arguments.port}
    server = config.server.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    config = config.model_copy(update={"server": server})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(config, signature_pool=signature_pool)
    start_up = _StartUp()
    app.on_startup.append(start_up.resources_opened)
    address = f"http://{server.host}:{server.port}/"

    def listening() -> None:
        print(f"wallet-rpc {__version__} serving on {address}", flush=True)

    try:
        run_app(
            app,
            host=server.host,
            port=server.port,
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
            on_listening=listening,
        )
    except StorageKeyError as error:
        raise CannotProceed(str(error)) from None
    except OSError as error:
        if not start_up.opened:
            raise _database_fault(config, error) from None
        raise CannotProceed(
            f"cannot listen on {server.host}:{server.port}: {_socket_reason(error)}",
            EXIT_CANNOT_START,
        ) from None
    except (SQLAlchemyError, SchemaError, StorageUnavailable) as error:
        raise _database_fault(config, error) from None
    return 0


def _open_sqlite_file(url: str) -> None:
    """Open (or create) an SQLite file once, before the event loop runs.

    A file that cannot be opened is said in one line here: under the loop,
    aiosqlite reports a failed connect from a thread of its own that can
    outlive the loop, and prints a traceback at exit.
    """
    import sqlite3

    path = sqlite_file(url)
    if path is None:
        return
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as error:
        raise CannotProceed(
            f"cannot open the database at {path.absolute()}: {error}", EXIT_CANNOT_START
        ) from None


def _socket_reason(error: OSError) -> str:
    import os

    return os.strerror(error.errno) if error.errno else str(error)


def _database_fault(config: Config, error: BaseException) -> CannotProceed:
    from wallet_rpc.cli.store import failure_reason

    return CannotProceed(
        f"cannot open the database at {shown_url(config.database.url)}: {failure_reason(error)}",
        EXIT_CANNOT_START,
    )


def migrate(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.cli.store import open_store

    async def bring_up_to_date() -> None:
        async with open_store(config, writes=True, check_key=False):
            pass

    run_command(bring_up_to_date())
    print("database is up to date")
    return 0
