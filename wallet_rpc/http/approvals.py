"""GET /approvals: the page where a person approves or rejects waiting requests.

Loopback-only (http/loopback.py): its form posts carry the per-process token
and must come from the page's own origin, so a dApp open in the same browser
cannot approve its own request. The page is templates/approvals.html; its
script polls GET /approvals.json and swaps in the fresh list when it changes.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

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
from wallet_rpc.service.prompt import Decision, PendingRequest, Recorded

PAGE_PATH = "/approvals"
STATE_PATH = "/approvals.json"
NO_JS_REFRESH_SECONDS = 3
# Ids are random hex (storage/approvals.py); anything else names no request.
_APPROVAL_ID = re.compile(r"[0-9a-f]{1,32}")
REFUSALS = Refusals(
    "Forbidden: the approval page is served to loopback clients only",
    "Forbidden: open the approval page as localhost or 127.0.0.1",
)

_NOTICES = {
    "approved": "Approved request {id}.",
    "rejected": "Rejected request {id}.",
    "not-pending": "Request {id} is no longer waiting: it was answered, withdrawn or timed out.",
    "already-decided": "Request {id} was already decided.",
}


def _state(pending: list[PendingRequest]) -> dict[str, Any]:
    return {"pending": [entry.as_json() for entry in pending]}


def _unreadable() -> web.Response:
    return plain_answer(403, "Forbidden: the approval page is not readable by other origins")


async def approvals_page(request: web.Request) -> web.StreamResponse:
    if read_by_another_origin(request):
        return _unreadable()
    pending = await request.app[appkeys.APPROVALS].pending()
    approval = request.app[appkeys.CONFIG].approval
    return pages.render_page(
        request,
        "approvals.html",
        {
            "current": "approvals",
            "pending": pending,
            "mode": approval.mode,
            "timeout_seconds": approval.timeout_seconds,
            "notice": _notice(request.query.get("done"), request.query.get("id")),
            "token": request.app[appkeys.APPROVAL_FORM_TOKEN],
            "etag": pages.encode_state(_state(pending))[1],
            "page_path": PAGE_PATH,
            "state_path": STATE_PATH,
            "poll_ms": pages.POLL_MILLISECONDS,
            "refresh_seconds": NO_JS_REFRESH_SECONDS,
        },
    )


async def approvals_state(request: web.Request) -> web.StreamResponse:
    """The waiting requests as JSON: what the page's script polls to refresh itself."""
    if read_by_another_origin(request):
        return _unreadable()
    return pages.state_answer(request, _state(await request.app[appkeys.APPROVALS].pending()))


async def decide(request: web.Request) -> web.StreamResponse:
    if not same_origin_post(request):
        return plain_answer(403, "Forbidden: decisions are accepted from the approval page only")
    approval_id = request.match_info["approval_id"]
    if not _APPROVAL_ID.fullmatch(approval_id):
        return plain_answer(404, "Not Found: no such request")
    form = await request.post()
    if not token_matches(form.get("token"), request.app[appkeys.APPROVAL_FORM_TOKEN]):
        return plain_answer(403, "Forbidden: reload the approval page and decide again")
    decision_text = form.get("decision")
    shown_origin = form.get("origin")
    if decision_text not in ("approve", "reject") or not isinstance(shown_origin, str):
        return plain_answer(400, "Bad Request: a decision needs decision=approve|reject and origin")
    decision = Decision(decision_text)
    recorded = await request.app[appkeys.APPROVALS].record(approval_id, decision, shown_origin)
    done = (
        ("approved" if decision is Decision.APPROVE else "rejected")
        if recorded is Recorded.RECORDED
        else recorded.value
    )
    raise web.HTTPSeeOther(f"{PAGE_PATH}?done={done}&id={approval_id}", headers=PRIVATE_HEADERS)


def _notice(done: str | None, approval_id: str | None) -> str | None:
    template = _NOTICES.get(done or "")
    if template is None or approval_id is None or not _APPROVAL_ID.fullmatch(approval_id):
        return None
    return template.format(id=approval_id)


def routes() -> list[web.RouteDef]:
    return [
        web.get(PAGE_PATH, loopback_only(approvals_page, REFUSALS)),
        web.get(STATE_PATH, loopback_only(approvals_state, REFUSALS)),
        web.post(PAGE_PATH + "/{approval_id}", loopback_only(decide, REFUSALS)),
    ]
