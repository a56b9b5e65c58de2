"""GET /metrics: Prometheus text format; loopback-only (http/loopback.py) unless configured."""

from __future__ import annotations

import logging

from aiohttp import web

from wallet_rpc import appkeys
from wallet_rpc.config import Config
from wallet_rpc.http.loopback import Refusals, loopback_only

logger = logging.getLogger(__name__)

PATH = "/metrics"
REFUSALS = Refusals(
    "Forbidden: metrics are served to loopback clients only",
    "Forbidden: read metrics as localhost or 127.0.0.1",
)


async def metrics(request: web.Request) -> web.StreamResponse:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    call_metrics = request.app[appkeys.METRICS]
    # Read at scrape time: both are shared by every replica on the database.
    try:
        counts = await request.app[appkeys.STORE_STATUS].counts()
        call_metrics.stored_credentials.set(counts.stored_credentials)
        call_metrics.pending_approvals.set(counts.pending_approvals)
    except Exception:  # the request counters are still worth serving
        logger.warning("cannot read store gauges for /metrics", exc_info=True)
    body = generate_latest(call_metrics.registry)
    response = web.Response(body=body)
    # CONTENT_TYPE_LATEST carries its own charset parameter.
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def routes(config: Config) -> list[web.RouteDef]:
    """Loopback-only unless `metrics_remote`; never with CORS headers either way."""
    if not config.observability.metrics:
        return []
    if config.observability.metrics_remote:
        return [web.get(PATH, metrics)]
    return [web.get(PATH, loopback_only(metrics, REFUSALS))]
