"""SPEC section 4: what a client sent reaches a person at the CLI escaped; JSON keeps it exact."""

from __future__ import annotations

import http.client
import json
import unicodedata
from typing import Any

import pytest

from tests.approval_support import (
    STORE,
    Caller,
    answer,
    connect,
    pending,
    prompt_settings,
    wait_for_pending,
)
from tests.conftest import InProcessServerFactory, sqlite_only
from tests.operations_support import OTHER_OWNER, audit_of
from tests.support import Server

# Clears the screen, starts a forged line, reverses what follows, and C1's CSI.
HOSTILE = {"screen": "\x1b[2J", "line": "ok\r\nFAKE origin", "bidi": "\u202eevil", "csi": "\x9b31m"}


def _hostile_credential() -> dict[str, Any]:
    return {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "credential": {
            "owner": {"_type": "PublicKey", "value": OTHER_OWNER},
            "data": dict(HOSTILE),
        },
    }


def _raw_hidden_characters(text: str) -> list[str]:
    """Control and format characters in `text`, less the CLI's own line ends and tabs."""
    return [
        character
        for character in text
        if unicodedata.category(character) in ("Cc", "Cf") and character not in "\n\t"
    ]


# What reaches the terminal does not depend on the backend.
pytestmark = sqlite_only


@pytest.fixture
def prompt_server(make_in_process_server: InProcessServerFactory) -> Server:
    return make_in_process_server(prompt_settings())


def test_a_waiting_credential_is_listed_escaped_and_its_json_exact(
    prompt_server: Server, caller: Caller
) -> None:
    connect(prompt_server, caller)
    waiting = caller.call(prompt_server, STORE, {"credential": _hostile_credential()})
    (entry,) = wait_for_pending(prompt_server)

    listed = prompt_server.cli_here("approvals", "list")
    assert listed.returncode == 0, listed.stderr
    assert _raw_hidden_characters(listed.stdout) == []
    for shown in ("\\u001b[2J", "ok\\u000d\\u000aFAKE origin", "\\u202eevil", "\\u009b31m"):
        assert shown in listed.stdout

    as_json = prompt_server.cli_here("approvals", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert _raw_hidden_characters(as_json.stdout) == []
    # The page's shape, item for item, and the client's strings exactly.
    assert json.loads(as_json.stdout) == {"pending": pending(prompt_server)}
    (shown_entry,) = json.loads(as_json.stdout)["pending"]
    assert shown_entry["credential"]["credential"]["data"] == HOSTILE

    approved = prompt_server.cli_here("approvals", "approve", entry["id"])
    assert approved.returncode == 0, approved.stderr
    assert "error" not in answer(waiting)

    credentials = prompt_server.cli_here("credentials", "list")
    assert credentials.returncode == 0, credentials.stderr
    assert _raw_hidden_characters(credentials.stdout) == []
    (stored,) = prompt_server.stored()
    shown = prompt_server.cli_here("credentials", "show", str(stored["id"]))
    assert shown.returncode == 0, shown.stderr
    assert _raw_hidden_characters(shown.stdout) == []
    assert json.loads(shown.stdout)["credential"]["credential"]["data"] == HOSTILE


def _call_with_raw_origin(server: Server, origin: bytes) -> int:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "mina_requestAccounts"})
        connection.putrequest("POST", "/")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Origin", origin)
        connection.endheaders(body.encode())
        reply = connection.getresponse()
        reply.read()
        return reply.status
    finally:
        connection.close()


def test_audit_shows_a_refused_origin_escaped(in_process_server: Server) -> None:
    server = in_process_server
    # UTF-8 on the wire (HTTP allows such bytes in a header value; not C0 controls).
    origin = "http://\u202eevil\u009b.example"
    assert _call_with_raw_origin(server, origin.encode()) == 200
    [row] = audit_of(server, 1)
    assert row["origin"] == origin

    listed = server.cli_here("audit")
    assert listed.returncode == 0, listed.stderr
    assert _raw_hidden_characters(listed.stdout) == []
    assert "http://\\u202eevil\\u009b.example" in listed.stdout
    as_json = server.cli_here("audit", "--json")
    assert _raw_hidden_characters(as_json.stdout) == []
    assert json.loads(as_json.stdout)[0]["origin"] == origin
