"""Playing the person of prompt mode: waiting calls, the pending list, the page's form."""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tests.support import ALLOWED_ORIGIN, Response, Server, seed_credential

ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
REJECTED = {"code": 1002, "message": "The request was rejected by the user."}
ORIGIN_MISMATCH = {"code": 23001, "message": "Origin dismatch."}
# How long a test waits for something that happens in well under a second.
WAIT_SECONDS = 30
STORE = "mina_storePrivateCredential"
CONNECT = "mina_requestAccounts"

_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def prompt_settings(timeout_seconds: float = 120) -> dict[str, dict[str, Any]]:
    return {"approval": {"mode": "prompt", "timeout_seconds": timeout_seconds}}


def store_params() -> dict[str, Any]:
    return {"credential": seed_credential()}


def pending(server: Server) -> list[dict[str, Any]]:
    response = server.get("/approvals.json")
    assert response.status == 200, (response.status, response.body)
    entries: list[dict[str, Any]] = response.json()["pending"]
    return entries


def wait_for_pending(server: Server, count: int = 1) -> list[dict[str, Any]]:
    """The pending list once it holds `count` requests."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        entries = pending(server)
        if len(entries) >= count:
            return entries
        time.sleep(0.05)
    raise AssertionError(f"{count} pending request(s) never appeared:\n{server.log()}")


def wait_until_nothing_pending(server: Server) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if not pending(server):
            return
        time.sleep(0.05)
    raise AssertionError(f"pending requests never went away:\n{server.log()}")


def form_token(server: Server) -> str:
    page = server.get("/approvals")
    assert page.status == 200
    found = _TOKEN.search(page.body.decode("utf-8"))
    assert found is not None, "the approval page has no form"
    return html.unescape(found.group(1))


def post_decision(
    server: Server,
    approval_id: str,
    decision: str,
    origin: str,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """What the page's form posts when a person clicks Approve or Reject."""
    fields = {"decision": decision, "origin": origin}
    fields["token"] = form_token(server) if token is None else token
    body = urllib.parse.urlencode(fields).encode("ascii")
    return server.request(
        "POST",
        f"/approvals/{approval_id}",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )


class Caller:
    """JSON-RPC calls that wait in the background while the test plays the person."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="waiting-call")

    def call(
        self,
        server: Server,
        method: str,
        params: Any = None,
        *,
        origin: str | None = ALLOWED_ORIGIN,
    ) -> Future[dict[str, Any]]:
        return self._pool.submit(server.call, method, params, origin=origin)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def answer(call: Future[dict[str, Any]]) -> dict[str, Any]:
    return call.result(timeout=WAIT_SECONDS)


def connect(server: Server, caller: Caller, origin: str = ALLOWED_ORIGIN) -> None:
    """Connect the origin as a person would: approve its mina_requestAccounts on the page."""
    waiting = caller.call(server, CONNECT, origin=origin)
    (entry,) = wait_for_pending(server)
    assert entry["method"] == CONNECT
    assert post_decision(server, entry["id"], "approve", entry["origin"]).status == 303
    assert answer(waiting) == {"jsonrpc": "2.0", "result": [ACCOUNT], "id": 1}


def pending_store(server: Server, caller: Caller) -> tuple[dict[str, Any], Future[dict[str, Any]]]:
    """Connect, then send a store that waits; its pending entry and the waiting call."""
    connect(server, caller)
    waiting = caller.call(server, STORE, store_params())
    (entry,) = wait_for_pending(server)
    return entry, waiting


def stored_by_cli(server: Server) -> list[dict[str, Any]]:
    """`credentials list --json`, in a thread of its own: usable beside Playwright's event loop."""
    return server.stored()
