"""GET /approvals: the page where a person approves or rejects waiting requests.

Served only to loopback clients (by the peer address of the connection, not a
header) and only under a loopback host name, so that neither another machine
nor a site that rebinds its DNS name to 127.0.0.1 can read it. Its form posts
carry a per-process token and must come from the page's own origin: a dApp
open in the same browser cannot approve its own request.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from html import escape

from aiohttp import web

from wallet_rpc import appkeys
from wallet_rpc.service.presentation import CredentialView, ValueView
from wallet_rpc.service.prompt import PendingRequest
from wallet_rpc.storage.approvals import Decision, Recorded

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGE_PATH = "/approvals"
STATUS_PATH = "/approvals.json"
NO_JS_REFRESH_SECONDS = 3
JS_POLL_MILLISECONDS = 1000
# Ids are random hex (storage/approvals.py); anything else names no request.
_APPROVAL_ID = re.compile(r"[0-9a-f]{1,32}")

_NOTICES = {
    "approved": "Approved request {id}.",
    "rejected": "Rejected request {id}.",
    "not-pending": "Request {id} is no longer waiting: it was answered, withdrawn or timed out.",
    "already-decided": "Request {id} was already decided.",
}


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def _is_loopback_address(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _peer_is_loopback(request: web.Request) -> bool:
    transport = request.transport
    peer = None if transport is None else transport.get_extra_info("peername")
    return isinstance(peer, tuple) and bool(peer) and _is_loopback_address(peer[0])


def _host_is_loopback_name(request: web.Request) -> bool:
    host = request.url.raw_host
    if host is None:
        return False
    host = host.strip("[]").lower()
    return host == "localhost" or host.endswith(".localhost") or _is_loopback_address(host)


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _refusal(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")


def _local_only(request: web.Request) -> web.Response | None:
    if not _peer_is_loopback(request):
        return _refusal(403, "Forbidden: the approval page is served to loopback clients only")
    if not _host_is_loopback_name(request):
        return _refusal(403, "Forbidden: open the approval page as localhost or 127.0.0.1")
    return None


def _readable_here(request: web.Request) -> web.Response | None:
    refused = _local_only(request)
    if refused is not None:
        return refused
    # A script on another origin reading the page would learn the form token.
    origin = request.headers.get("Origin")
    if origin is not None and origin != _own_origin(request):
        return _refusal(403, "Forbidden: the approval page is not readable by other origins")
    return None


def _same_origin_post(request: web.Request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == _own_origin(request)


_PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    # Not no-referrer: under it Chromium sends "Origin: null" with the page's own form posts.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


async def approvals_page(request: web.Request) -> web.StreamResponse:
    refused = _readable_here(request)
    if refused is not None:
        return refused
    pending = await request.app[appkeys.APPROVALS].pending()
    nonce = secrets.token_urlsafe(16)
    notice = _notice(request.query.get("done"), request.query.get("id"))
    body = _page(request, pending, notice, nonce)
    headers = {
        **_PRIVATE_HEADERS,
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}';"
            " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
    }
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)


async def approvals_status(request: web.Request) -> web.StreamResponse:
    """The waiting requests as JSON: what the page's script polls to refresh itself."""
    refused = _readable_here(request)
    if refused is not None:
        return refused
    pending = await request.app[appkeys.APPROVALS].pending()
    body = {"pending": [entry.as_json() for entry in pending]}
    return web.json_response(body, headers=_PRIVATE_HEADERS, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def decide(request: web.Request) -> web.StreamResponse:
    refused = _local_only(request)
    if refused is not None:
        return refused
    if not _same_origin_post(request):
        return _refusal(403, "Forbidden: decisions are accepted from the approval page only")
    approval_id = request.match_info["approval_id"]
    if not _APPROVAL_ID.fullmatch(approval_id):
        return _refusal(404, "Not Found: no such request")
    form = await request.post()
    if not _token_matches(form.get("token"), request.app[appkeys.APPROVAL_FORM_TOKEN]):
        return _refusal(403, "Forbidden: reload the approval page and decide again")
    decision_text = form.get("decision")
    shown_origin = form.get("origin")
    if decision_text not in ("approve", "reject") or not isinstance(shown_origin, str):
        return _refusal(400, "Bad Request: a decision needs decision=approve|reject and origin")
    decision = Decision(decision_text)
    recorded = await request.app[appkeys.APPROVALS].record(approval_id, decision, shown_origin)
    done = (
        ("approved" if decision is Decision.APPROVE else "rejected")
        if recorded is Recorded.RECORDED
        else recorded.value
    )
    raise web.HTTPSeeOther(f"{PAGE_PATH}?done={done}&id={approval_id}", headers=_PRIVATE_HEADERS)


def _token_matches(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("ascii"))


def routes() -> list[web.RouteDef]:
    return [
        web.get(PAGE_PATH, approvals_page),
        web.get(STATUS_PATH, approvals_status),
        web.post(PAGE_PATH + "/{approval_id}", decide),
    ]


# --- the page ------------------------------------------------------------------------------


def _notice(done: str | None, approval_id: str | None) -> str | None:
    template = _NOTICES.get(done or "")
    if template is None or approval_id is None or not _APPROVAL_ID.fullmatch(approval_id):
        return None
    return template.format(id=approval_id)


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S UTC")


def _value_rows(value: ValueView, depth: int = 0) -> str:
    note = f' <span class="note">{escape(value.note)}</span>' if value.note else ""
    text = f'<span class="value">{escape(value.text)}</span>' if value.text else ""
    row = (
        f'<tr class="depth-{min(depth, 4)}"><th scope="row">{escape(value.name)}</th>'
        f"<td>{text}{note}</td>"
        f'<td class="type">{escape(value.type_name)}</td></tr>'
    )
    return row + "".join(_value_rows(member, depth + 1) for member in value.members)


def _credential(view: CredentialView) -> str:
    issuer = (
        f'<dt>Issuer</dt><dd class="key">{escape(view.issuer)}</dd>'
        if view.issuer is not None
        else ""
    )
    rows = "".join(_value_rows(value) for value in view.data)
    data = (
        '<table class="data"><thead><tr><th scope="col">Field</th><th scope="col">Value</th>'
        f'<th scope="col">Type</th></tr></thead><tbody>{rows}</tbody></table>'
        if rows
        else '<p class="quiet">No data fields.</p>'
    )
    metadata = (
        f"<details><summary>Metadata (not signed)</summary><pre>{escape(view.metadata)}</pre>"
        "</details>"
        if view.metadata is not None
        else ""
    )
    return (
        f'<dl class="facts"><dt>Owner</dt><dd class="key">{escape(view.owner)}</dd>'
        f"{issuer}<dt>Witness</dt><dd>{escape(view.witness)}</dd></dl>{data}{metadata}"
    )


def _request_card(request: web.Request, entry: PendingRequest) -> str:
    token = request.app[appkeys.APPROVAL_FORM_TOKEN]
    expires_ms = int(entry.expires_at.timestamp() * 1000)
    if entry.view is not None:
        body = _credential(entry.view)
    elif entry.method == "mina_requestAccounts":
        body = '<p class="quiet">The site asks to connect and to see the current account.</p>'
    else:
        body = ""
    return f"""
<article class="request" id="request-{escape(entry.id)}" data-id="{escape(entry.id)}">
  <header>
    <h2>{escape(entry.title)}</h2>
    <p class="origin">from <strong>{escape(entry.origin)}</strong></p>
    <p class="meta"><code>{escape(entry.method)}</code> · request <code>{escape(entry.id)}</code>
      · arrived {_clock(entry.requested_at)} · answered with 1002 at
      <time datetime="{entry.expires_at.isoformat()}">{_clock(entry.expires_at)}</time>
      <span class="left" data-expires="{expires_ms}"></span></p>
  </header>
  {body}
  <form method="post" action="{PAGE_PATH}/{escape(entry.id)}" class="decision">
    <input type="hidden" name="token" value="{escape(token)}">
    <input type="hidden" name="origin" value="{escape(entry.origin)}">
    <button type="submit" name="decision" value="reject" class="reject">Reject</button>
    <button type="submit" name="decision" value="approve" class="approve">Approve</button>
  </form>
</article>"""


def _page(
    request: web.Request, pending: list[PendingRequest], notice: str | None, nonce: str
) -> str:
    config = request.app[appkeys.CONFIG]
    mode = config.approval.mode
    if mode == "prompt":
        mode_line = (
            f"Requests that need consent wait here for up to {config.approval.timeout_seconds:g}"
            " seconds; unanswered, they get 1002."
        )
    else:
        mode_line = (
            f'Approval mode is "{escape(mode)}": this server decides without asking. Set'
            ' <code>[approval] mode = "prompt"</code> to decide here.'
        )
    notice_html = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    cards = "".join(_request_card(request, entry) for entry in pending)
    if not cards:
        cards = '<p class="empty">Nothing is waiting. New requests appear here as they arrive.</p>'
    ids = " ".join(entry.id for entry in pending)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{f"({len(pending)}) " if pending else ""}Approvals · wallet-rpc</title>
<noscript><meta http-equiv="refresh" content="{NO_JS_REFRESH_SECONDS}; url={PAGE_PATH}"></noscript>
<style nonce="{nonce}">{_STYLE}</style>
</head>
<body>
<header class="top">
  <h1>Approvals</h1>
  <p class="lede">{mode_line}</p>
</header>
<main id="pending" data-ids="{escape(ids)}" aria-live="polite">
{notice_html}{cards}
</main>
<footer>
  <p>From a terminal: <code>wallet-rpc approvals list</code>,
  <code>wallet-rpc approvals approve ID</code>, <code>wallet-rpc approvals reject ID</code>.</p>
</footer>
<script nonce="{nonce}">{_SCRIPT}</script>
</body>
</html>
"""


_STYLE = """
:root { color-scheme: light dark; --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de;
  --paper: #ffffff; --card: #fbfbfc; --approve: #176b3a; --reject: #a1261b; --accent: #1a4fa3; }
@media (prefers-color-scheme: dark) { :root { --ink: #ececf0; --muted: #a4a7ae;
  --line: #3a3b40; --paper: #16171a; --card: #1e1f23; --approve: #3fa56b; --reject: #e06055;
  --accent: #8ab4f8; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 48rem; padding: 2rem 1.25rem 3rem; background: var(--paper);
  color: var(--ink); font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.75rem; margin: 0 0 .25rem; letter-spacing: -.01em; }
h2 { font-size: 1.2rem; margin: 0; }
code, .key, .value, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas,
  monospace; font-size: .9em; }
.lede, .meta, .quiet, .empty, footer, .note, .type { color: var(--muted); }
.lede { margin: 0 0 1.5rem; }
.notice { border-left: 4px solid var(--accent); padding: .5rem .75rem; background: var(--card); }
.empty { padding: 2.5rem 0; text-align: center; border: 1px dashed var(--line);
  border-radius: .5rem; }
.request { border: 1px solid var(--line); border-radius: .6rem; background: var(--card);
  padding: 1.1rem 1.25rem; margin: 0 0 1.25rem; }
.request header p { margin: .15rem 0; }
.origin strong { font-size: 1.05rem; }
.meta { font-size: .85rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem;
  margin: 1rem 0; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
table.data { width: 100%; border-collapse: collapse; margin: .5rem 0 1rem; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: .35rem .5rem;
  border-top: 1px solid var(--line); }
table.data thead th { border-top: 0; font-size: .8rem; text-transform: uppercase;
  letter-spacing: .04em; color: var(--muted); }
table.data tbody th { font-weight: 600; white-space: nowrap; }
table.data td { overflow-wrap: anywhere; }
.depth-1 th { padding-left: 1.5rem; } .depth-2 th { padding-left: 2.5rem; }
.depth-3 th, .depth-4 th { padding-left: 3.5rem; }
.note { display: block; font-size: .85rem; }
.type { font-size: .85rem; white-space: nowrap; }
details { margin: 0 0 1rem; } pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.decision { display: flex; gap: .75rem; justify-content: flex-end; }
button { font: inherit; font-weight: 600; padding: .5rem 1.4rem; border-radius: .4rem;
  cursor: pointer; border: 1px solid; }
button.approve { background: var(--approve); border-color: var(--approve); color: #fff; }
button.reject { background: transparent; border-color: var(--reject); color: var(--reject); }
button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
footer { margin-top: 2rem; font-size: .875rem; border-top: 1px solid var(--line); }
footer code { white-space: nowrap; }
"""

# Without JavaScript the page reloads itself (<noscript> refresh); with it, it
# polls the JSON status and swaps in the new list only when the requests change.
_SCRIPT = f"""
(() => {{
  const main = () => document.getElementById("pending");
  const countdown = () => {{
    for (const left of document.querySelectorAll(".left[data-expires]")) {{
      const seconds = Math.max(0, Math.round((Number(left.dataset.expires) - Date.now()) / 1000));
      left.textContent = "(" + seconds + " s left)";
    }}
  }};
  const refresh = async () => {{
    try {{
      const status = await fetch("{STATUS_PATH}", {{cache: "no-store"}});
      const ids = (await status.json()).pending.map((entry) => entry.id).join(" ");
      if (ids === main().dataset.ids) return;
      const page = await fetch("{PAGE_PATH}", {{cache: "no-store"}});
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html");
      main().replaceWith(fresh.getElementById("pending"));
      document.title = fresh.title;
      countdown();
    }} catch (error) {{
      // The server may be restarting; the next round tries again.
    }}
  }};
  countdown();
  setInterval(countdown, 1000);
  setInterval(refresh, {JS_POLL_MILLISECONDS});
}})();
"""
