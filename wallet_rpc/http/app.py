"""The aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from wallet_rpc import appkeys
from wallet_rpc.config import Config
from wallet_rpc.http import browser, handlers
from wallet_rpc.methods import WALLET_METHODS, Method
from wallet_rpc.rpc.dispatch import Dispatcher
from wallet_rpc.rpc.envelope import Envelope
from wallet_rpc.service.approval import ApproveAll, Approver, RejectAll
from wallet_rpc.service.verification import CredentialVerifier
from wallet_rpc.service.wallet import WalletService
from wallet_rpc.storage.database import Database

logger = logging.getLogger(__name__)


def _approver_for(config: Config) -> Approver:
    if config.approval.mode == "reject":
        return RejectAll()
    return ApproveAll()


def create_app(
    config: Config, extra_methods: Mapping[str, Method] | None = None
) -> web.Application:
    """The whole server; `extra_methods` adds JSON-RPC methods beside the wallet's own."""
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[handlers.cors_middleware, handlers.error_middleware],
    )
    app[appkeys.CONFIG] = config
    methods = {**WALLET_METHODS, **(extra_methods or {})}

    async def database_context(app: web.Application) -> AsyncIterator[None]:
        database = Database(config.database.url)
        await database.migrate()
        await database.open()
        app[appkeys.DATABASE] = database
        app[appkeys.WALLET] = WalletService(
            config, database, _approver_for(config), CredentialVerifier(config.verification)
        )
        app[appkeys.ENVELOPE] = Envelope(
            Dispatcher(methods, config.compat.messages), config.server.max_batch
        )
        yield
        await database.close()

    app.cleanup_ctx.append(database_context)
    app.router.add_post("/", handlers.json_rpc)
    app.router.add_route("OPTIONS", "/", handlers.preflight)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/provider.js", browser.provider_script)
    return app
