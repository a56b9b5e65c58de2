"""How the pages are made: Jinja2 templates (autoescaped), and the JSON their scripts poll.

Templates live in wallet_rpc/templates, styles and scripts in
wallet_rpc/static. Client text in a template goes through the `for_person`
filter (control and format characters shown as \\uXXXX, SPEC section 4) and
sits in a <bdi>; every expression's output also passes through `for_person`,
so one that forgets the filter still shows nothing raw. A page's JSON carries
an ETag of its content and the page the same tag, so a script that polls with
If-None-Match gets 304 until something changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
import jinja2
import markupsafe
from aiohttp import web

from wallet_rpc.display import for_person
from wallet_rpc.http.loopback import PRIVATE_HEADERS
from wallet_rpc.http.static_files import entity_tag, none_match

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# How often a page's script asks whether anything changed.
POLL_MILLISECONDS = 1000


def _shown(value: Any) -> Any:
    # Markup is template output (a macro's), made of values that passed here already.
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return for_person(value)
    return value


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S UTC")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_FILTERS: dict[str, Callable[..., str]] = {
    "for_person": for_person,
    "clock": _clock,
    "when": _when,
}


def setup_templates(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("wallet_rpc", "templates"),
        autoescape=True,
        # Installed files do not change while the server runs.
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
        filters=_FILTERS,
    )


def render_page(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, dict(context), status=status)
    response.headers.update(PRIVATE_HEADERS)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def encode_state(state: object) -> tuple[bytes, str]:
    """A page's state as JSON bytes, and their ETag."""
    body = json.dumps(state, ensure_ascii=False).encode("utf-8")
    return body, entity_tag(body)


def state_answer(request: web.Request, state: object) -> web.Response:
    """The state as JSON with its ETag; 304 when the client's If-None-Match names it."""
    body, etag = encode_state(state)
    headers = {**PRIVATE_HEADERS, "ETag": etag}
    if none_match(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, headers=headers, content_type="application/json", charset="utf-8"
    )
