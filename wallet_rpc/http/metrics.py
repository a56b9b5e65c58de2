"""GET /metrics: Prometheus text format, to loopback peers unless configured otherwise."""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wallet_rpc import appkeys
from wallet_rpc.config import Config
from wallet_rpc.service.prompt import pending_count
from wallet_rpc.storage import credentials

logger = logging.getLogger(__name__)

PATH = "/metrics"


def _peer_is_loopback(request: web.Request) -> bool:
    """By the connection's peer address, never a header (as the approval page decides)."""
    transport = request.transport
    peer = None if transport is None else transport.get_extra_info("peername")
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return False
    try:
        address = ipaddress.ip_address(peer[0].split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


async def metrics(request: web.Request) -> web.StreamResponse:
    config = request.app[appkeys.CONFIG].observability
    if not config.metrics_remote and not _peer_is_loopback(request):
        return web.Response(
            status=403,
            text="Forbidden: metrics are served to loopback clients only\n",
            content_type="text/plain",
        )
    call_metrics = request.app[appkeys.METRICS]
    database = request.app[appkeys.DATABASE]
    # Read at scrape time: both are shared by every replica on the database.
    try:
        call_metrics.stored_credentials.set(await credentials.count_credentials(database))
        call_metrics.pending_approvals.set(await pending_count(database))
    except Exception:  # the request counters are still worth serving
        logger.warning("cannot read store gauges for /metrics", exc_info=True)
    body = generate_latest(call_metrics.registry)
    response = web.Response(body=body)
    # CONTENT_TYPE_LATEST carries its own charset parameter.
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def routes(config: Config) -> list[web.RouteDef]:
    return [web.get(PATH, metrics)] if config.observability.metrics else []
