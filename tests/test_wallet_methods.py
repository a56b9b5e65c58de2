"""The wallet methods over HTTP, answering as Auro Wallet does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.conftest import InProcessServerFactory
from tests.support import ALLOWED_ORIGIN, Server, error_code, seed_credential
from wallet_rpc import __version__

ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
DOCS_ANSWER = json.dumps(seed_credential(), separators=(",", ":"), ensure_ascii=False)


def store(
    server: Server, credential: Any, *, origin: str | None = ALLOWED_ORIGIN
) -> dict[str, Any]:
    return server.call("mina_storePrivateCredential", {"credential": credential}, origin=origin)


def test_docs_example_is_stored_and_answered_byte_for_byte(in_process_server: Server) -> None:
    assert in_process_server.call("mina_requestAccounts") == {
        "jsonrpc": "2.0",
        "result": [ACCOUNT],
        "id": 1,
    }
    answer = store(in_process_server, seed_credential())
    assert answer["result"] == {"credential": DOCS_ANSWER}
    [entry] = in_process_server.stored()
    assert entry["origin"] == ALLOWED_ORIGIN
    assert entry["owner"] == ACCOUNT
    assert entry["credential"] == seed_credential()
    assert entry["verified"] is True
    assert entry["stored_at"].endswith("+00:00")
    shown = in_process_server.cli_here("credentials", "show", str(entry["id"]))
    assert json.loads(shown.stdout)["credential"] == seed_credential()


def test_pallad_array_params_are_accepted(in_process_server: Server) -> None:
    in_process_server.call("mina_requestAccounts")
    answer = in_process_server.call("mina_storePrivateCredential", [seed_credential()])
    assert answer["result"] == {"credential": DOCS_ANSWER}


def test_duplicate_gets_the_first_answer_and_one_entry(in_process_server: Server) -> None:
    in_process_server.call("mina_requestAccounts")
    first = seed_credential()
    first["metadata"] = {"note": "first"}
    first_answer = store(in_process_server, first)["result"]
    again = copy.deepcopy(seed_credential())
    again["metadata"] = {"note": "second"}
    reordered = {key: again[key] for key in reversed(list(again))}
    reordered["credential"] = {
        key: again["credential"][key] for key in reversed(list(again["credential"]))
    }
    assert store(in_process_server, reordered)["result"] == first_answer
    assert store(in_process_server, seed_credential())["result"] == first_answer
    assert len(in_process_server.stored()) == 1
    assert json.loads(first_answer["credential"])["metadata"] == {"note": "first"}


def test_same_credential_from_another_origin_is_another_entry(in_process_server: Server) -> None:
    for origin in (ALLOWED_ORIGIN, "http://localhost"):
        in_process_server.call("mina_requestAccounts", origin=origin)
        assert store(in_process_server, seed_credential(), origin=origin)["result"]
    assert sorted(entry["origin"] for entry in in_process_server.stored()) == [
        "http://localhost",
        ALLOWED_ORIGIN,
    ]


def test_missing_origin_header_uses_default_origin(in_process_server: Server) -> None:
    assert in_process_server.call("mina_requestAccounts", origin=None)["result"] == [ACCOUNT]
    assert store(in_process_server, seed_credential(), origin=None)["result"]
    assert in_process_server.stored()[0]["origin"] == "http://localhost"


def test_without_default_origin_headerless_requests_get_23001(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"security": {"allowed_origins": ["http://localhost"]}})
    server.stop()
    del server.settings["security"]["default_origin"]
    server.start()
    assert error_code(server.call("mina_requestAccounts", origin=None)) == 23001
    assert server.call("mina_accounts", origin=None)["result"] == []


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "",
        "http://localhost:5173/",
        "http://localhost:5173/path",
        "http://user@localhost:5173",
        "localhost:5173",
        "http://localhost:5174",
        "ftp://localhost",
    ],
)
def test_disallowed_or_malformed_origin_gets_23001(
    shared_in_process_server: Server, origin: str
) -> None:
    for method in ("mina_requestAccounts", "wallet_revokePermissions", "wallet_info"):
        answer = shared_in_process_server.call(method, origin=origin)
        assert answer["error"] == {"code": 23001, "message": "Origin dismatch."}
    answer = store(shared_in_process_server, seed_credential(), origin=origin)
    assert error_code(answer) == 23001
    assert shared_in_process_server.call("mina_accounts", origin=origin)["result"] == []


def test_store_before_connecting_gets_1001(in_process_server: Server) -> None:
    answer = store(in_process_server, seed_credential())
    assert answer["error"] == {
        "code": 1001,
        "message": "User disconnect, need connect Auro Wallet.",
    }
    assert in_process_server.stored() == []


def test_revoke_disconnects(in_process_server: Server) -> None:
    in_process_server.call("mina_requestAccounts")
    assert in_process_server.call("mina_accounts")["result"] == [ACCOUNT]
    assert in_process_server.call("wallet_revokePermissions")["result"] == []
    assert in_process_server.call("mina_accounts")["result"] == []
    assert error_code(store(in_process_server, seed_credential())) == 1001


def test_connection_survives_a_restart(in_process_server: Server) -> None:
    in_process_server.call("mina_requestAccounts")
    in_process_server.stop()
    in_process_server.start()
    assert in_process_server.call("mina_accounts")["result"] == [ACCOUNT]
    assert store(in_process_server, seed_credential())["result"] == {"credential": DOCS_ANSWER}


@pytest.mark.parametrize(
    "params",
    [
        {"credential": json.dumps(seed_credential())},
        [json.dumps(seed_credential())],
        {},
        [],
        {"credential": None},
        {"credential": seed_credential(), "extra": 1},
        [seed_credential(), seed_credential()],
        {"credential": {**seed_credential(), "version": "v1"}},
        {"credential": {**seed_credential(), "unknown": 1}},
    ],
)
# The module's shared server stores nothing: every store sent to it is refused.
def test_bad_params_get_20003_and_store_nothing(
    shared_in_process_server: Server, params: Any
) -> None:
    shared_in_process_server.call("mina_requestAccounts")
    answer = shared_in_process_server.call("mina_storePrivateCredential", params)
    assert answer["error"]["code"] == 20003
    assert answer["error"]["message"] == "The parameters were invalid."
    assert shared_in_process_server.stored() == []


def test_missing_params_get_20003(shared_in_process_server: Server) -> None:
    shared_in_process_server.call("mina_requestAccounts")
    assert error_code(shared_in_process_server.call("mina_storePrivateCredential")) == 20003


def test_20003_data_names_the_field(shared_in_process_server: Server) -> None:
    shared_in_process_server.call("mina_requestAccounts")
    broken = seed_credential()
    broken["witness"]["issuer"]["value"] = broken["witness"]["issuer"]["value"][:-1] + "x"
    error = store(shared_in_process_server, broken)["error"]
    assert error["code"] == 20003
    assert "issuer" in json.dumps(error.get("data"))
    assert "Traceback" not in json.dumps(error)
    assert shared_in_process_server.stored() == []


def test_reject_mode_rejects_connect_and_store(
    make_in_process_server: InProcessServerFactory,
) -> None:
    approving = make_in_process_server()
    approving.call("mina_requestAccounts")
    approving.stop()
    rejecting = make_in_process_server({"approval": {"mode": "reject"}})
    assert rejecting.call("mina_requestAccounts", origin="http://localhost")["error"] == {
        "code": 1002,
        "message": "The request was rejected by the user.",
    }
    # Connected before, so connecting again needs no approval, as in Auro.
    assert rejecting.call("mina_requestAccounts")["result"] == [ACCOUNT]
    assert error_code(store(rejecting, seed_credential())) == 1002
    assert rejecting.stored() == []


def test_check_order(make_in_process_server: InProcessServerFactory) -> None:
    approving = make_in_process_server()
    approving.call("mina_requestAccounts")
    approving.stop()
    rejecting = make_in_process_server({"approval": {"mode": "reject"}})
    bad = {"credential": "not an object"}
    # disallowed origin with bad params: 23001
    assert (
        error_code(rejecting.call("mina_storePrivateCredential", bad, origin="https://x.org"))
        == 23001
    )
    # allowed but disconnected origin with bad params: 1001
    disconnected = "http://127.0.0.1:5173"
    assert (
        error_code(rejecting.call("mina_storePrivateCredential", bad, origin=disconnected)) == 1001
    )
    # connected origin with bad params in reject mode: 20003
    assert error_code(rejecting.call("mina_storePrivateCredential", bad)) == 20003


def test_rate_limit_comes_first_and_spares_mina_accounts(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"security": {"rate_limit_per_minute": 3}})
    for _ in range(5):
        assert server.call("mina_accounts")["result"] == []
    assert server.call("wallet_info")["result"]["init"] is True
    assert server.call("mina_requestAccounts")["result"] == [ACCOUNT]
    assert store(server, seed_credential())["result"]
    limited = store(server, seed_credential())
    assert limited["error"] == {
        "code": 22001,
        "message": "Rate limit exceeded. Please try again later.",
    }
    # A disallowed origin is counted first, against the budget all disallowed origins share.
    assert error_code(server.call("wallet_info", origin="https://other.example")) == 23001
    assert server.call("wallet_info", origin="http://localhost")["result"]["init"] is True
    assert len(server.stored()) == 1


def test_extension_messages(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"compat": {"messages": "extension"}})
    assert store(server, seed_credential())["error"] == {
        "code": 1001,
        "message": "User disconnect, please connect first.",
    }
    server.call("mina_requestAccounts")
    assert store(server, "string")["error"]["message"] == "Invalid method parameter(s)."
    assert error_code(server.call("wallet_info", origin="null")) == 23001


def test_require_owner_account(make_in_process_server: InProcessServerFactory) -> None:
    other_account = "B62qoAQQuCJouBEiGFawnioyj5ALTKZBX6jkbKJUJHn6ZX5Utovqada"
    server = make_in_process_server(
        {"security": {"require_owner_account": True}, "wallet": {"accounts": [other_account]}}
    )
    assert server.call("mina_requestAccounts")["result"] == [other_account]
    answer = store(server, seed_credential())
    assert answer["error"]["code"] == 20003
    assert answer["error"]["data"]["field"] == "credential.credential.owner"
    assert server.stored() == []


def test_max_credential_bytes(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"security": {"max_credential_bytes": len(DOCS_ANSWER)}})
    server.call("mina_requestAccounts")
    assert store(server, seed_credential())["result"]
    bigger = seed_credential()
    bigger["metadata"] = {"padding": "x"}
    assert error_code(store(server, bigger)) == 20003
    assert len(server.stored()) == 1


def test_wallet_info(shared_in_process_server: Server) -> None:
    assert shared_in_process_server.call("wallet_info")["result"] == {
        "version": __version__,
        "init": True,
    }
