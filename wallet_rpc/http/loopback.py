"""Routes for the person at this machine only: who may read them, and which posts they accept.

A loopback-only route (the pages, their JSON and files, /metrics) answers a
peer whose address is loopback, by the connection and never a header, and
only under a loopback Host name (127.0.0.1, localhost, [::1], any port), so
that neither another machine nor a site that rebinds its DNS name to
127.0.0.1 can read it. Such routes never carry CORS headers
(handlers.add_routes). A page's form posts carry a per-process token and must
come from the page's own origin: a dApp open in the same browser cannot post
them.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from aiohttp import web

from wallet_rpc.http.handlers import Handler, origin_header, plain_answer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Every answer of a page, its JSON and its files.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    # Not no-referrer: under it Chromium sends "Origin: null" with the page's own form posts.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Refusals:
    """What a loopback-only route answers the peers and Host names it does not serve."""

    remote_peer: str
    other_host: str


def _is_loopback_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def peer_is_loopback(request: web.Request) -> bool:
    transport = request.transport
    peer = None if transport is None else transport.get_extra_info("peername")
    return (
        isinstance(peer, tuple)
        and bool(peer)
        and isinstance(peer[0], str)
        and _is_loopback_address(peer[0])
    )


def host_is_loopback(request: web.Request) -> bool:
    host = request.url.raw_host
    return host is not None and host.strip("[]").lower() in LOOPBACK_HOSTS


def loopback_only(handler: Handler, refusals: Refusals) -> Handler:
    """`handler`, answered only to loopback peers under a loopback Host name; else 403."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not peer_is_loopback(request):
            return plain_answer(403, refusals.remote_peer)
        if not host_is_loopback(request):
            return plain_answer(403, refusals.other_host)
        return await handler(request)

    return guarded


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def read_by_another_origin(request: web.Request) -> bool:
    """A script on another origin asks: it would learn the form token from a page."""
    origin = origin_header(request)
    return origin is not None and origin != own_origin(request)


def same_origin_post(request: web.Request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = origin_header(request)
    return origin is None or origin == own_origin(request)


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("ascii"))
