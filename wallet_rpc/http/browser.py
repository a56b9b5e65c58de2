"""GET /provider.js: the script that gives a dApp page `window.mina` (SPEC section 5)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

JAVASCRIPT = "application/javascript"


@dataclass(frozen=True, slots=True)
class StaticScript:
    body: bytes
    etag: str


@functools.cache
def provider_script_file() -> StaticScript:
    body = resources.files("wallet_rpc").joinpath("static", "provider.js").read_bytes()
    return StaticScript(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _matches(request: web.Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    # Weak comparison, as RFC 9110 asks of If-None-Match.
    candidates = (candidate.strip().removeprefix("W/") for candidate in header.split(","))
    return any(candidate in ("*", etag) for candidate in candidates)


async def provider_script(request: web.Request) -> web.StreamResponse:
    script = provider_script_file()
    headers = {
        "ETag": script.etag,
        # Revalidate each load (a 304 when unchanged), so pages follow a server upgrade.
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        # Pages on any origin load it with a plain <script> tag, even under COEP.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _matches(request, script.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=script.body, headers=headers, content_type=JAVASCRIPT, charset="utf-8")
