"""Loopback-only routes (SPEC section 2): who may read them, no CORS, no raw client text."""

from __future__ import annotations

import json

import pytest

from tests.approval_support import (
    STORE,
    Caller,
    answer,
    connect,
    pending,
    post_decision,
    prompt_settings,
    wait_for_pending,
)
from tests.conftest import InProcessServerFactory
from tests.page_support import (
    HOSTILE_NAME,
    HOSTILE_VALUE,
    assert_shown_escaped,
    cors_headers,
    hostile_credential,
)
from tests.support import ALLOWED_ORIGIN, Server

LOOPBACK_ONLY_PATHS = [
    "/approvals",
    "/approvals.json",
    "/metrics",
    "/static/pages.css",
    "/static/live.js",
]


@pytest.mark.parametrize("path", LOOPBACK_ONLY_PATHS)
def test_loopback_only_routes_carry_no_cors_headers(
    shared_in_process_server: Server, path: str
) -> None:
    origin = {"Origin": ALLOWED_ORIGIN}
    # The same origin gets CORS headers where it may read: the origin is allowed.
    assert cors_headers(shared_in_process_server.get("/healthz", headers=origin))

    answers = [
        shared_in_process_server.get(
            path, headers={"Origin": f"http://127.0.0.1:{shared_in_process_server.port}"}
        ),
        shared_in_process_server.get(path, headers=origin),
        shared_in_process_server.get(path, headers={**origin, "Host": "evil.example"}),
        shared_in_process_server.request("PUT", path, headers=origin),
    ]

    assert [answer.status for answer in answers][1:] == [
        403 if path.startswith("/approvals") else 200,
        403,
        405,
    ]
    assert answers[0].status == 200
    for refused_or_not in answers:
        assert cors_headers(refused_or_not) == {}


def test_refused_decisions_carry_no_cors_headers(shared_in_process_server: Server) -> None:
    refused = shared_in_process_server.request(
        "POST",
        "/approvals/0123abcd",
        b"decision=approve&origin=x&token=x",
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": ALLOWED_ORIGIN},
    )

    assert refused.status == 403
    assert cors_headers(refused) == {}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "192.0.2.7", "127.0.0.2"])
def test_metrics_answer_only_under_a_loopback_host_name(
    shared_in_process_server: Server, host: str
) -> None:
    """A site whose DNS name points at 127.0.0.1 (rebinding) must not read the counts."""
    refused = shared_in_process_server.get("/metrics", headers={"Host": host})

    assert refused.status == 403
    assert refused.body == b"Forbidden: read metrics as localhost or 127.0.0.1\n"
    assert b"wallet_rpc_requests_total" not in refused.body


@pytest.mark.parametrize(
    "host", ["localhost", "LocalHost:8787", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8787"]
)
def test_loopback_host_names_with_any_port_are_served(
    shared_in_process_server: Server, host: str
) -> None:
    for path in ("/metrics", "/approvals", "/approvals.json"):
        assert shared_in_process_server.get(path, headers={"Host": host}).status == 200, path


def test_the_approval_state_answers_304_until_it_changes(
    make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    server = make_in_process_server(prompt_settings())
    first = server.get("/approvals.json")
    etag = first.headers["ETag"]
    assert first.json() == {"pending": []}
    page = server.get("/approvals").body.decode()
    # The page carries the tag of what it shows: its script's first poll gets 304.
    assert f'data-etag="{etag.replace(chr(34), "&#34;")}"' in page

    unchanged = server.get("/approvals.json", headers={"If-None-Match": etag})
    assert (unchanged.status, unchanged.body, unchanged.headers["ETag"]) == (304, b"", etag)

    waiting = caller.call(server, "mina_requestAccounts")
    (entry,) = wait_for_pending(server)
    changed = server.get("/approvals.json", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["pending"] == [entry]
    post_decision(server, entry["id"], "reject", ALLOWED_ORIGIN)
    answer(waiting)


def test_the_approval_page_shows_hostile_client_text_escaped(
    make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    server = make_in_process_server(prompt_settings())
    connect(server, caller)
    waiting = caller.call(server, STORE, {"credential": hostile_credential()})
    (entry,) = wait_for_pending(server)

    page = server.get("/approvals")

    assert page.status == 200
    assert_shown_escaped(page.body.decode("utf-8"))
    # The JSON is data, not a person's view: the strings as stored.
    data = pending(server)[0]["credential"]["credential"]["data"]
    assert data[HOSTILE_NAME] == HOSTILE_VALUE
    assert json.loads(json.dumps(data))[HOSTILE_NAME] == HOSTILE_VALUE
    post_decision(server, entry["id"], "reject", ALLOWED_ORIGIN)
    assert answer(waiting)["error"]["code"] == 1002
