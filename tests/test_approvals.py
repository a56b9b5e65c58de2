"""Prompt mode (SPEC section 4): requests wait for a person on the page or the CLI."""

from __future__ import annotations

import json
import socket
import urllib.parse

import pytest

from tests.approval_support import (
    ACCOUNT,
    CONNECT,
    ORIGIN_MISMATCH,
    REJECTED,
    STORE,
    WAIT_SECONDS,
    Caller,
    answer,
    connect,
    form_token,
    pending,
    pending_store,
    post_decision,
    prompt_settings,
    store_params,
    wait_for_pending,
    wait_until_nothing_pending,
)
from tests.conftest import InProcessServerFactory, ServerFactory, refused_by_peer
from tests.page_support import REFUSED_FORM_POSTS
from tests.support import ALLOWED_ORIGIN, Server, non_loopback_address, seed_credential


@pytest.fixture
def prompt_server(make_in_process_server: InProcessServerFactory) -> Server:
    return make_in_process_server(prompt_settings())


# The timeout of the one test about timing out: long enough to see the request wait.
TIMEOUT_SECONDS = 3


def error_of(reply: dict[str, object]) -> object:
    return reply.get("error")


def test_connect_waits_until_approved_on_the_page(prompt_server: Server, caller: Caller) -> None:
    waiting = caller.call(prompt_server, CONNECT)
    (entry,) = wait_for_pending(prompt_server)
    assert entry["method"] == CONNECT
    assert entry["origin"] == ALLOWED_ORIGIN
    assert not waiting.done()
    assert prompt_server.call("mina_accounts") == {"jsonrpc": "2.0", "result": [], "id": 1}

    decided = post_decision(prompt_server, entry["id"], "approve", ALLOWED_ORIGIN)

    assert decided.status == 303
    assert decided.headers["Location"] == f"/approvals?done=approved&id={entry['id']}"
    assert answer(waiting) == {"jsonrpc": "2.0", "result": [ACCOUNT], "id": 1}
    assert prompt_server.call("mina_accounts")["result"] == [ACCOUNT]
    assert pending(prompt_server) == []


def test_rejected_connect_gets_1002_and_connects_nothing(
    prompt_server: Server, caller: Caller
) -> None:
    waiting = caller.call(prompt_server, CONNECT)
    (entry,) = wait_for_pending(prompt_server)

    assert post_decision(prompt_server, entry["id"], "reject", ALLOWED_ORIGIN).status == 303

    assert error_of(answer(waiting)) == REJECTED
    assert prompt_server.call("mina_accounts")["result"] == []


def test_page_lists_a_pending_store_readably(prompt_server: Server, caller: Caller) -> None:
    entry, waiting = pending_store(prompt_server, caller)
    page = prompt_server.get("/approvals")
    text = page.body.decode("utf-8")

    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert f'id="request-{entry["id"]}"' in text
    assert ALLOWED_ORIGIN in text
    assert STORE in text
    credential = seed_credential()
    assert credential["credential"]["owner"]["value"] in text
    assert credential["witness"]["issuer"]["value"] in text
    assert "-215913411073" in text  # Int64 birthDate as a signed number
    assert "1963-02-28" in text  # ... and, by its name, as a date
    assert "2026-04-26 05:45:33 UTC" in text  # UInt64 expiresAt as a date
    assert "2a4dc0212e4c68fff1ae6ffbb2c194fb" in text
    assert "16 bytes" in text
    assert ">Approve</button>" in text
    assert ">Reject</button>" in text
    assert not waiting.done()
    rejected = post_decision(prompt_server, str(entry["id"]), "reject", ALLOWED_ORIGIN)
    assert rejected.status == 303
    assert answer(waiting)["error"]["code"] == 1002


def test_cli_lists_approves_and_the_call_stores(prompt_server: Server, caller: Caller) -> None:
    entry, waiting = pending_store(prompt_server, caller)

    listed = prompt_server.cli_here("approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (shown,) = json.loads(listed.stdout)["pending"]
    assert shown["id"] == entry["id"]
    assert shown["method"] == STORE
    assert shown["origin"] == ALLOWED_ORIGIN
    assert shown["credential"] == seed_credential()
    readable = {value["name"]: value for value in shown["readable"]["data"]}
    assert readable["birthDate"]["text"] == "-215913411073"
    assert readable["expiresAt"]["note"] == "2026-04-26 05:45:33 UTC"
    text_listing = prompt_server.cli_here("approvals", "list")
    assert entry["id"] in text_listing.stdout
    assert "birthDate: -215913411073  [Int64]" in text_listing.stdout

    # A CLI process of its own: a decision made in another process reaches the
    # process where the request waits.
    approved = prompt_server.cli("approvals", "approve", str(entry["id"]))

    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith(f"approved {entry['id']}")
    reply = answer(waiting)
    assert "error" not in reply, reply
    assert json.loads(reply["result"]["credential"]) == seed_credential()
    assert len(prompt_server.stored()) == 1
    after = prompt_server.cli_here("approvals", "list", "--json")
    assert json.loads(after.stdout) == {"pending": []}


def test_cli_reject_gives_1002_and_stores_nothing(prompt_server: Server, caller: Caller) -> None:
    entry, waiting = pending_store(prompt_server, caller)

    rejected = prompt_server.cli_here("approvals", "reject", str(entry["id"]))

    assert rejected.returncode == 0, rejected.stderr
    assert rejected.stdout.startswith(f"rejected {entry['id']}")
    assert error_of(answer(waiting)) == REJECTED
    assert prompt_server.stored() == []


def test_a_decision_for_another_origin_answers_23001(prompt_server: Server, caller: Caller) -> None:
    entry, waiting = pending_store(prompt_server, caller)

    decided = prompt_server.cli_here(
        "approvals", "approve", str(entry["id"]), "--origin", "http://localhost:5174"
    )

    assert decided.returncode == 0, decided.stderr
    assert error_of(answer(waiting)) == ORIGIN_MISMATCH
    assert prompt_server.stored() == []


def test_a_page_decision_for_another_origin_answers_23001(
    prompt_server: Server, caller: Caller
) -> None:
    entry, waiting = pending_store(prompt_server, caller)

    posted = post_decision(prompt_server, str(entry["id"]), "approve", "http://evil.example")

    assert posted.status == 303
    assert error_of(answer(waiting)) == ORIGIN_MISMATCH
    assert prompt_server.stored() == []


def test_unanswered_request_times_out_with_1002_and_stores_nothing(
    make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    # Connected under the usual timeout, so that only the store below is up against the clock.
    connect(make_in_process_server(prompt_settings()), caller)
    server = make_in_process_server(prompt_settings(timeout_seconds=TIMEOUT_SECONDS))
    waiting = caller.call(server, STORE, store_params())
    (entry,) = wait_for_pending(server)

    assert error_of(answer(waiting)) == REJECTED
    assert server.stored() == []
    assert pending(server) == []
    late = server.cli_here("approvals", "approve", str(entry["id"]))
    assert late.returncode == 1
    assert "no request" in late.stderr
    assert server.stored() == []


def test_an_approval_through_one_replica_releases_a_request_waiting_in_another(
    make_server: ServerFactory, caller: Caller
) -> None:
    holding = make_server(prompt_settings())
    other = make_server(prompt_settings())
    connect(holding, caller)
    waiting = caller.call(holding, STORE, store_params())

    (entry,) = wait_for_pending(other)  # the other replica's page lists it too
    assert post_decision(other, str(entry["id"]), "approve", ALLOWED_ORIGIN).status == 303

    reply = answer(waiting)
    assert "error" not in reply, reply
    assert len(other.stored()) == 1


def test_a_client_that_hangs_up_withdraws_its_request(
    prompt_server: Server, caller: Caller
) -> None:
    connect(prompt_server, caller)
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": STORE, "params": store_params()})
    raw = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{prompt_server.port}\r\n"
        f"Content-Type: application/json\r\nOrigin: {ALLOWED_ORIGIN}\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()
    with socket.create_connection(
        ("127.0.0.1", prompt_server.port), timeout=WAIT_SECONDS
    ) as client:
        client.sendall(raw)
        (entry,) = wait_for_pending(prompt_server)

    wait_until_nothing_pending(prompt_server)
    late = prompt_server.cli_here("approvals", "approve", str(entry["id"]))
    assert late.returncode == 1
    assert prompt_server.stored() == []


def test_stopping_the_server_answers_waiting_requests_with_1002(
    prompt_server: Server, caller: Caller
) -> None:
    connect(prompt_server, caller)
    waiting = caller.call(prompt_server, STORE, store_params())
    wait_for_pending(prompt_server)

    assert prompt_server.stop() == 0

    assert error_of(answer(waiting)) == REJECTED
    listed = prompt_server.cli_here("approvals", "list", "--json")
    assert json.loads(listed.stdout) == {"pending": []}
    assert prompt_server.stored() == []


def test_a_request_is_decided_once(prompt_server: Server, caller: Caller) -> None:
    entry, waiting = pending_store(prompt_server, caller)
    approval_id = str(entry["id"])
    assert prompt_server.cli_here("approvals", "reject", approval_id).returncode == 0
    assert error_of(answer(waiting)) == REJECTED

    again = prompt_server.cli_here("approvals", "approve", approval_id)

    assert again.returncode == 1
    assert prompt_server.stored() == []


def test_cli_refuses_an_unknown_id(prompt_server: Server) -> None:
    for action in ("approve", "reject"):
        result = prompt_server.cli_here("approvals", action, "0123abcd")
        assert result.returncode == 1
        assert result.stderr == (
            "wallet-rpc: no request 0123abcd is waiting"
            " (never was, or answered, withdrawn or timed out)\n"
        )
    listed = prompt_server.cli_here("approvals", "list")
    assert listed.returncode == 0
    assert listed.stdout == "No requests are waiting.\n"


def test_several_requests_wait_and_are_decided_independently(
    prompt_server: Server, caller: Caller
) -> None:
    first = caller.call(prompt_server, CONNECT, origin="http://localhost:5173")
    wait_for_pending(prompt_server, 1)
    second = caller.call(prompt_server, CONNECT, origin="http://127.0.0.1:5173")
    entries = wait_for_pending(prompt_server, 2)
    by_origin = {entry["origin"]: entry for entry in entries}

    assert (
        post_decision(
            prompt_server,
            by_origin["http://127.0.0.1:5173"]["id"],
            "reject",
            "http://127.0.0.1:5173",
        ).status
        == 303
    )
    assert error_of(answer(second)) == REJECTED
    assert not first.done()
    assert [entry["origin"] for entry in pending(prompt_server)] == ["http://localhost:5173"]

    post_decision(
        prompt_server, by_origin["http://localhost:5173"]["id"], "approve", ALLOWED_ORIGIN
    )
    assert answer(first)["result"] == [ACCOUNT]


# --- the page's protections -------------------------------------------------------------------


# Each refusal is checked against one waiting request, which must still be
# waiting after every one of them; then the page's own decision goes through.
def test_decisions_from_other_sites_or_without_the_token_are_refused(
    make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    holding = make_in_process_server(prompt_settings())
    other = make_in_process_server(prompt_settings())
    waiting = caller.call(holding, CONNECT)
    (entry,) = wait_for_pending(holding)
    cases = [*REFUSED_FORM_POSTS, ("token-of-another-server", {}, form_token(other))]

    for case, headers, token in cases:
        refused = post_decision(
            holding, entry["id"], "approve", ALLOWED_ORIGIN, headers=headers, token=token
        )
        assert refused.status == 403, case
        assert pending(holding) == [entry], case

    own_origin = {"Origin": f"http://127.0.0.1:{holding.port}", "Sec-Fetch-Site": "same-origin"}
    accepted = post_decision(holding, entry["id"], "reject", ALLOWED_ORIGIN, headers=own_origin)
    assert accepted.status == 303
    assert error_of(answer(waiting)) == REJECTED


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param({"decision": "maybe", "origin": ALLOWED_ORIGIN}, 400, id="bad-decision"),
        pytest.param({"decision": "approve"}, 400, id="no-origin"),
    ],
)
def test_malformed_decisions_are_refused(
    prompt_server: Server, caller: Caller, fields: dict[str, str], status: int
) -> None:
    waiting = caller.call(prompt_server, CONNECT)
    (entry,) = wait_for_pending(prompt_server)
    body = urllib.parse.urlencode({**fields, "token": form_token(prompt_server)}).encode()

    refused = prompt_server.request(
        "POST",
        f"/approvals/{entry['id']}",
        body,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert refused.status == status
    assert b"Traceback" not in refused.body
    assert pending(prompt_server) == [entry]
    post_decision(prompt_server, entry["id"], "reject", ALLOWED_ORIGIN)
    assert error_of(answer(waiting)) == REJECTED


@pytest.mark.parametrize(
    "approval_id", ["NOT-HEX", "0123abcd%0D%0ASet-Cookie:%20a=b", "a" * 33, "%C3%A9"]
)
def test_a_decision_for_a_malformed_id_is_404(
    shared_in_process_server: Server, approval_id: str
) -> None:
    posted = shared_in_process_server.request(
        "POST",
        f"/approvals/{approval_id}",
        b"decision=approve&origin=http%3A%2F%2Flocalhost&token=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert posted.status == 404
    assert posted.body == b"Not Found: no such request\n"


def test_a_decision_for_an_unknown_request_says_so(prompt_server: Server, caller: Caller) -> None:
    waiting = caller.call(prompt_server, CONNECT)
    (entry,) = wait_for_pending(prompt_server)

    posted = post_decision(prompt_server, "0123abcd", "approve", ALLOWED_ORIGIN)

    assert posted.status == 303
    page = prompt_server.get(posted.headers["Location"]).body.decode()
    assert "Request 0123abcd is no longer waiting" in page
    assert pending(prompt_server) == [entry]
    post_decision(prompt_server, entry["id"], "reject", ALLOWED_ORIGIN)
    assert error_of(answer(waiting)) == REJECTED


@pytest.mark.parametrize("path", ["/approvals", "/approvals.json"])
def test_other_origins_cannot_read_the_page(shared_in_process_server: Server, path: str) -> None:
    read = shared_in_process_server.get(path, headers={"Origin": ALLOWED_ORIGIN})

    assert read.status == 403
    assert b"token" not in read.body


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "192.0.2.7"])
def test_the_page_answers_only_under_a_loopback_host_name(
    shared_in_process_server: Server, host: str
) -> None:
    """A site whose DNS name points at 127.0.0.1 (rebinding) must not read the page."""
    assert shared_in_process_server.get("/approvals", headers={"Host": host}).status == 403
    assert shared_in_process_server.get("/approvals", headers={"Host": "localhost"}).status == 200


def test_the_page_in_auto_mode_says_nothing_waits(shared_in_process_server: Server) -> None:
    page = shared_in_process_server.get("/approvals").body.decode()

    assert 'Approval mode is "auto"' in page
    assert "Nothing is waiting." in page


@refused_by_peer
def test_the_page_is_refused_to_a_non_loopback_client(
    make_in_process_server: InProcessServerFactory,
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    server = make_in_process_server(prompt_settings(), host="0.0.0.0")
    remote = Server(server.workdir, server.settings, host=address, port=server.port)

    # Connecting to the machine's own interface address makes that address the peer.
    assert remote.get("/healthz").status == 200
    for path in ("/approvals", "/approvals.json"):
        refused = remote.get(path, headers={"Host": f"localhost:{server.port}"})
        assert refused.status == 403
        assert refused.body == b"Forbidden: the approval page is served to loopback clients only\n"
    assert remote.request("POST", "/approvals/0123abcd", b"").status == 403
    loopback = Server(server.workdir, server.settings, host="127.0.0.1", port=server.port)
    assert loopback.get("/approvals").status == 200


def test_the_page_refreshes_without_javascript(prompt_server: Server) -> None:
    text = prompt_server.get("/approvals").body.decode()

    assert '<noscript><meta http-equiv="refresh"' in text
