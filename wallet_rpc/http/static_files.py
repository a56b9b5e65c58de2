"""Files of wallet_rpc/static, served as they are and revalidated by ETag.

The pages' style sheet and scripts (loopback-only, like the pages) and
provider.js (for any dApp page, http/browser.py).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from wallet_rpc.http.handlers import plain_answer
from wallet_rpc.http.loopback import PRIVATE_HEADERS, Refusals, loopback_only

JAVASCRIPT = "application/javascript"
PREFIX = "/static/"
# The pages' own files; anything else under /static/ is not found.
PAGE_FILES = {
    "pages.css": "text/css",
    "live.js": JAVASCRIPT,
    "approvals.js": JAVASCRIPT,
    "wallet.js": JAVASCRIPT,
}
REFUSALS = Refusals(
    "Forbidden: the pages are served to loopback clients only",
    "Forbidden: open the pages as localhost or 127.0.0.1",
)


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    etag: str
    content_type: str


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@functools.cache
def static_file(name: str, content_type: str) -> StaticFile:
    body = resources.files("wallet_rpc").joinpath("static", name).read_bytes()
    return StaticFile(body, entity_tag(body), content_type)


def none_match(request: web.Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (or `*`): the client's copy is current."""
    candidates = request.if_none_match
    if not candidates:
        return False
    # Weak comparison, as RFC 9110 asks of If-None-Match.
    return any(candidate.value in ("*", etag.strip('"')) for candidate in candidates)


def file_answer(
    request: web.Request, file: StaticFile, headers: dict[str, str]
) -> web.StreamResponse:
    headers = {
        **headers,
        "ETag": file.etag,
        # Revalidate each load (a 304 when unchanged), so pages follow a server upgrade.
        "Cache-Control": "no-cache",
    }
    if none_match(request, file.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=file.body, headers=headers, content_type=file.content_type, charset="utf-8"
    )


async def page_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    content_type = PAGE_FILES.get(name)
    if content_type is None:
        return plain_answer(404, "Not Found")
    return file_answer(request, static_file(name, content_type), PRIVATE_HEADERS)


def routes() -> list[web.RouteDef]:
    return [web.get(PREFIX + "{name}", loopback_only(page_file, REFUSALS))]
