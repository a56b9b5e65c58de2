"""The aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

from aiohttp import web

from wallet_rpc import appkeys
from wallet_rpc.config import Config
from wallet_rpc.http import (
    approvals,
    browser,
    handlers,
    loopback,
    metrics,
    pages,
    static_files,
    wallet_page,
)
from wallet_rpc.methods import WALLET_METHODS, Method
from wallet_rpc.rpc.discover import DISCOVER, discover_method
from wallet_rpc.rpc.dispatch import Dispatcher
from wallet_rpc.rpc.envelope import Envelope
from wallet_rpc.rpc.observe import (
    AccessLog,
    CallMetrics,
    CallObserver,
    Observers,
    access_log_stream,
)
from wallet_rpc.service.approval import ApproveAll, Approver, RejectAll
from wallet_rpc.service.overview import WalletOverview
from wallet_rpc.service.prompt import PromptApprover
from wallet_rpc.service.store_status import StoreStatus
from wallet_rpc.service.verification import CredentialVerifier, SignaturePool
from wallet_rpc.service.wallet import WalletService
from wallet_rpc.storage.audit import AuditPruner, AuditQueue
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import check_storage_key, sealer_for

logger = logging.getLogger(__name__)


def _approver_for(config: Config, prompt: PromptApprover) -> Approver:
    if config.approval.mode == "reject":
        return RejectAll()
    if config.approval.mode == "prompt":
        return prompt
    return ApproveAll()


def create_app(
    config: Config,
    extra_methods: Mapping[str, Method] | None = None,
    signature_pool: SignaturePool | None = None,
) -> web.Application:
    """The whole server; `extra_methods` adds JSON-RPC methods beside the wallet's own.

    `signature_pool`, for [verification] native = true, may come already
    started (`serve` starts it before it imports the server); a pool given
    stays its giver's to close, a pool the application starts it closes.
    """
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        # Bodies are decoded by the handler that reads them (http/content_coding.py).
        handler_args={"auto_decompress": False},
    )
    app[appkeys.CONFIG] = config
    app[appkeys.APPROVAL_FORM_TOKEN] = loopback.new_form_token()
    pages.setup_templates(app)
    methods = {
        **WALLET_METHODS,
        DISCOVER: discover_method(config.compat.messages),
        **(extra_methods or {}),
    }
    observers: list[CallObserver] = []
    if config.observability.metrics:
        call_metrics = CallMetrics(methods)
        app[appkeys.METRICS] = call_metrics
        observers.append(call_metrics)
    log_stream = access_log_stream(config.observability.access_log)
    access_log = None if log_stream is None else AccessLog(log_stream)
    if access_log is not None:
        observers.append(access_log)

    verifier_pool: SignaturePool | None = None

    async def signature_pool_context(app: web.Application) -> AsyncIterator[None]:
        # First of the contexts: the workers start while the database opens.
        nonlocal verifier_pool
        if not config.verification.native:
            yield
            return
        verifier_pool = signature_pool or SignaturePool()
        verifier_pool.start()
        yield
        if signature_pool is None:
            verifier_pool.close()

    async def database_context(app: web.Application) -> AsyncIterator[None]:
        database = Database(
            config.database.url, busy_timeout_seconds=config.database.busy_timeout_seconds
        )
        await database.migrate()
        await database.open()
        sealer = sealer_for(config.storage.encryption_key_bytes)
        try:
            # A database it cannot write stops start-up (StorageUnavailable says why).
            await database.probe()
            await check_storage_key(database, sealer)
        except Exception:
            await database.close()
            raise
        audit = AuditQueue(database)
        app[appkeys.STORE_STATUS] = StoreStatus(database)
        # The approval page works in every mode; only prompt mode makes requests wait on it.
        prompt = PromptApprover(database, sealer, config.approval.timeout_seconds)
        app[appkeys.APPROVALS] = prompt
        app[appkeys.WALLET_OVERVIEW] = WalletOverview(config, database, sealer)
        app[appkeys.WALLET] = WalletService(
            config,
            database,
            _approver_for(config, prompt),
            CredentialVerifier(config.verification, verifier_pool),
            sealer=sealer,
            audit=audit,
        )
        app[appkeys.ENVELOPE] = Envelope(
            Dispatcher(methods, config.compat.messages),
            config.server.max_batch,
            Observers(observers),
        )
        retention = config.storage.audit_retention_days
        pruner = AuditPruner(database, timedelta(days=retention)) if retention else None
        if pruner is not None:
            pruner.start()
        yield
        if pruner is not None:
            await pruner.close()
        await audit.close()
        await database.close()
        if access_log is not None:
            access_log.flush()

    async def answer_waiting_approvals(app: web.Application) -> None:
        # Runs before the server waits for in-flight requests: waiting ones get 1002 now.
        await app[appkeys.APPROVALS].shutdown()

    app.cleanup_ctx.append(signature_pool_context)
    app.cleanup_ctx.append(database_context)
    app.on_shutdown.append(answer_waiting_approvals)
    handlers.add_routes(
        app,
        [
            web.post("/", handlers.json_rpc),
            web.route("OPTIONS", "/", handlers.preflight),
            web.get("/healthz", handlers.healthz),
            web.get("/provider.js", browser.provider_script),
        ],
        loopback_routes=[
            *approvals.routes(),
            *wallet_page.routes(),
            *static_files.routes(),
            *metrics.routes(config),
        ],
    )
    return app
