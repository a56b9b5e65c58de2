"""GET /wallet: the wallet's own page (SPEC section 7), and GET /wallet.json, the same as data.

Loopback-only (http/loopback.py), like the approval page: its buttons post the
per-process token and are accepted only from the page's own origin. "Delete"
asks first: with JavaScript a confirm() dialog (static/wallet.js) adds
confirmed=yes to the post; without it, a post lacking that field changes
nothing and leads to a confirmation step on the page. The page is
templates/wallet.html; its script polls /wallet.json and swaps in a fresh
copy when anything changed.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from wallet_rpc import appkeys
from wallet_rpc.http import pages
from wallet_rpc.http.handlers import plain_answer
from wallet_rpc.http.loopback import (
    PRIVATE_HEADERS,
    Refusals,
    loopback_only,
    read_by_another_origin,
    same_origin_post,
    token_matches,
)

PAGE_PATH = "/wallet"
STATE_PATH = "/wallet.json"
DISCONNECT_PATH = "/wallet/disconnect"
DELETE_PATH = "/wallet/credentials/{credential_id}/delete"
_CREDENTIAL_ID = re.compile(r"[0-9]{1,18}")
REFUSALS = Refusals(
    "Forbidden: the wallet page is served to loopback clients only",
    "Forbidden: open the wallet page as localhost or 127.0.0.1",
)
_NOTICES = {
    "disconnected": "Disconnected. The site must connect again before it can store.",
    "not-connected": "Nothing changed: that site was not connected.",
    "deleted": "Deleted credential {id}.",
    "not-found": "Nothing changed: credential {id} was not stored.",
}


def _unreadable() -> web.Response:
    return plain_answer(403, "Forbidden: the wallet page is not readable by other origins")


async def _accepted_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | FileField] | web.Response:
    """The post's form, if it came from the wallet page with the token; else a 403."""
    if not same_origin_post(request):
        return plain_answer(403, "Forbidden: accepted from the wallet page only")
    form = await request.post()
    if not token_matches(form.get("token"), request.app[appkeys.APPROVAL_FORM_TOKEN]):
        return plain_answer(403, "Forbidden: reload the wallet page and try again")
    return form


def _credential_id(text: str | None) -> int | None:
    return int(text) if text is not None and _CREDENTIAL_ID.fullmatch(text) else None


def _notice(done: str | None, credential_id: int | None) -> str | None:
    template = _NOTICES.get(done or "")
    if template is None or ("{id}" in template and credential_id is None):
        return None
    return template.format(id=credential_id)


async def wallet_page(request: web.Request) -> web.StreamResponse:
    if read_by_another_origin(request):
        return _unreadable()
    overview = request.app[appkeys.WALLET_OVERVIEW]
    snapshot = await overview.snapshot()
    notice = _notice(request.query.get("done"), _credential_id(request.query.get("id")))
    confirm_id = _credential_id(request.query.get("confirm-delete"))
    confirming = None if confirm_id is None else await overview.credential(confirm_id)
    if confirm_id is not None and confirming is None:
        notice = _NOTICES["not-found"].format(id=confirm_id)
    return pages.render_page(
        request,
        "wallet.html",
        {
            "current": "wallet",
            "wallet": snapshot,
            "confirming": confirming,
            "notice": notice,
            "approval_mode": request.app[appkeys.CONFIG].approval.mode,
            "token": request.app[appkeys.APPROVAL_FORM_TOKEN],
            "etag": pages.encode_state(snapshot.as_json())[1],
            "page_path": PAGE_PATH,
            "state_path": STATE_PATH,
            "disconnect_path": DISCONNECT_PATH,
            "poll_ms": pages.POLL_MILLISECONDS,
        },
    )


async def wallet_state(request: web.Request) -> web.StreamResponse:
    if read_by_another_origin(request):
        return _unreadable()
    snapshot = await request.app[appkeys.WALLET_OVERVIEW].snapshot()
    return pages.state_answer(request, snapshot.as_json())


def _back(query: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PAGE_PATH}?{query}", headers=PRIVATE_HEADERS)


async def disconnect(request: web.Request) -> web.StreamResponse:
    form = await _accepted_form(request)
    if isinstance(form, web.Response):
        return form
    origin = form.get("origin")
    if not isinstance(origin, str):
        return plain_answer(400, "Bad Request: disconnecting needs origin")
    done = await request.app[appkeys.WALLET_OVERVIEW].disconnect(origin)
    raise _back("done=disconnected" if done else "done=not-connected")


async def delete_credential(request: web.Request) -> web.StreamResponse:
    form = await _accepted_form(request)
    if isinstance(form, web.Response):
        return form
    credential_id = _credential_id(request.match_info["credential_id"])
    if credential_id is None:
        return plain_answer(404, "Not Found: no such credential")
    if form.get("confirmed") != "yes":
        raise _back(f"confirm-delete={credential_id}")
    deleted = await request.app[appkeys.WALLET_OVERVIEW].delete_credential(credential_id)
    raise _back(f"done={'deleted' if deleted else 'not-found'}&id={credential_id}")


def routes() -> list[web.RouteDef]:
    return [
        web.get(PAGE_PATH, loopback_only(wallet_page, REFUSALS)),
        web.get(STATE_PATH, loopback_only(wallet_state, REFUSALS)),
        web.post(DISCONNECT_PATH, loopback_only(disconnect, REFUSALS)),
        web.post(DELETE_PATH, loopback_only(delete_credential, REFUSALS)),
    ]
