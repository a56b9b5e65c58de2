"""rpc.discover (OpenRPC), GET /metrics and the JSON access log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families
from referencing import Registry, Resource

from tests.conftest import InProcessServerFactory, ServerFactory
from tests.operations_support import store, unsigned_credential
from tests.support import (
    ALLOWED_ORIGIN,
    WITHOUT_SIGNATURE_WORKERS,
    Server,
    error_code,
    non_loopback_address,
    seed_credential,
)
from wallet_rpc.methods import WALLET_METHODS

DATA = Path(__file__).resolve().parent / "data"
# From the npm packages @open-rpc/meta-schema 1.14.9 and @json-schema-tools/meta-schema
# 1.8.0 (Apache-2.0), which the first refers to for every JSON Schema in a document.
OPENRPC_META_SCHEMA = DATA / "openrpc-meta-schema-1.14.9.json"
JSON_SCHEMA_META_SCHEMA = DATA / "json-schema-tools-meta-schema-1.8.0.json"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _openrpc_validator() -> jsonschema.Draft7Validator:
    meta_schema = _load(OPENRPC_META_SCHEMA)
    schema_schema = _load(JSON_SCHEMA_META_SCHEMA)
    resource = Resource.from_contents(schema_schema, default_specification=_draft7())
    registry: Registry[Any] = Registry().with_resources(
        [
            ("https://meta.json-schema.tools", resource),
            ("https://meta.json-schema.tools/", resource),
        ]
    )
    return jsonschema.Draft7Validator(meta_schema, registry=registry)


def _draft7() -> Any:
    from referencing.jsonschema import DRAFT7

    return DRAFT7


def test_rpc_discover_answers_an_openrpc_document_that_validates(
    shared_in_process_server: Server,
) -> None:
    document = shared_in_process_server.call("rpc.discover")["result"]
    validator = _openrpc_validator()
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == []
    # The meta-schema does catch a malformed document.
    broken = {**document, "methods": [{"name": "x"}]}
    assert list(validator.iter_errors(broken)) != []
    names = [method["name"] for method in document["methods"]]
    assert sorted(names) == sorted([*WALLET_METHODS, "rpc.discover"])
    store_method = next(
        m for m in document["methods"] if m["name"] == "mina_storePrivateCredential"
    )
    assert {error["code"] for error in store_method["errors"]} >= {1001, 1002, 20003, 22001, 23001}
    assert {"code": 1001, "message": "User disconnect, need connect Auro Wallet."} in store_method[
        "errors"
    ]


def test_the_credential_schema_takes_what_the_server_takes(
    shared_in_process_server: Server,
) -> None:
    document = shared_in_process_server.call("rpc.discover")["result"]
    schemas = document["components"]["schemas"]
    credential_schema = {"$ref": "#/components/schemas/StoredCredential", "components": {}}
    credential_schema["components"] = {"schemas": schemas}
    validator = jsonschema.Draft202012Validator(credential_schema)
    assert list(validator.iter_errors(seed_credential())) == []
    assert list(validator.iter_errors(unsigned_credential("schema"))) == []
    with_unknown_key = {**seed_credential(), "extra": 1}
    assert list(validator.iter_errors(with_unknown_key)) != []
    wrong_witness = {**seed_credential(), "witness": {"type": "signed"}}
    assert list(validator.iter_errors(wrong_witness)) != []


def test_rpc_discover_needs_no_origin_and_takes_no_params(shared_in_process_server: Server) -> None:
    for origin in (None, "https://not-allowed.example"):
        assert (
            shared_in_process_server.call("rpc.discover", origin=origin)["result"]["openrpc"]
            == "1.3.2"
        )
    assert shared_in_process_server.call("rpc.discover", [])["result"]["openrpc"] == "1.3.2"
    assert shared_in_process_server.call("rpc.discover", {})["result"]["openrpc"] == "1.3.2"
    for params in ([1], {"x": 1}):
        answer = shared_in_process_server.call("rpc.discover", params)
        assert answer["error"] == {
            "code": -32602,
            "message": "Invalid params",
            "data": {"reason": "rpc.discover takes no params"},
        }


def _samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = server.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _requests(samples: dict[Any, float], method: str, outcome: str) -> float:
    key = ("wallet_rpc_requests_total", (("method", method), ("outcome", outcome)))
    return samples.get(key, 0.0)


def _duration_count(samples: dict[Any, float], method: str) -> float:
    return samples.get(("wallet_rpc_request_duration_seconds_count", (("method", method),)), 0.0)


def test_metrics_move_as_requests_arrive(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server()
    before = _samples(server)
    server.call("mina_requestAccounts")
    for _ in range(3):
        server.call("mina_accounts")
    for _ in range(2):
        assert error_code(server.call("wallet_info", origin="https://evil.example")) == 23001
    store(server, unsigned_credential("metrics"))
    store(server, unsigned_credential("metrics-2"))
    server.call("made_up_method")
    server.post(b"{not json")
    after = _samples(server)

    def moved(method: str, outcome: str) -> float:
        return _requests(after, method, outcome) - _requests(before, method, outcome)

    assert moved("mina_accounts", "ok") == 3
    assert moved("wallet_info", "23001") == 2
    assert moved("mina_storePrivateCredential", "ok") == 2
    assert moved("(unknown)", "-32601") == 1
    assert moved("(invalid)", "-32700") == 1
    assert _duration_count(after, "mina_accounts") - _duration_count(before, "mina_accounts") == 3
    assert after[("wallet_rpc_stored_credentials", ())] == 2
    assert after[("wallet_rpc_pending_approvals", ())] == 0


@pytest.mark.parametrize("remote_allowed", [False, True])
def test_metrics_are_for_loopback_clients_unless_configured(
    make_in_process_server: InProcessServerFactory, remote_allowed: bool
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    server = make_in_process_server(
        {"observability": {"metrics_remote": remote_allowed}}, host="0.0.0.0"
    )
    remote = Server(server.workdir, server.settings, host=address, port=server.port)
    answer = remote.get("/metrics")
    if remote_allowed:
        assert answer.status == 200
    else:
        assert answer.status == 403
        assert answer.body == b"Forbidden: metrics are served to loopback clients only\n"
    local = Server(server.workdir, server.settings, host="127.0.0.1", port=server.port)
    assert local.get("/metrics").status == 200


def test_metrics_can_be_turned_off(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"observability": {"metrics": False}})
    assert server.get("/metrics").status == 404


def _log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_one_log_line_per_call_and_no_credential_in_it(make_server: ServerFactory) -> None:
    server = make_server(WITHOUT_SIGNATURE_WORKERS)
    server.call("mina_requestAccounts", request_id="connect-1")
    credential = unsigned_credential("secretlog")
    store(server, credential)
    server.call("mina_storePrivateCredential", {"credential": credential}, request_id="store-2")
    server.call("wallet_info", origin="https://evil.example", request_id=3)
    server.post([{"jsonrpc": "2.0", "method": "mina_accounts", "id": "batch-a"}, 5])
    assert server.stop() == 0

    by_id = {line["request_id"]: line for line in _log_lines(server)}
    assert by_id["connect-1"]["method"] == "mina_requestAccounts"
    assert by_id["connect-1"]["code"] == 0
    assert by_id["connect-1"]["origin"] == ALLOWED_ORIGIN
    assert by_id["store-2"]["method"] == "mina_storePrivateCredential"
    assert by_id[3]["code"] == 23001
    assert by_id[3]["origin"] == "https://evil.example"
    assert by_id["batch-a"]["code"] == 0
    lines = _log_lines(server)
    assert len(lines) == 6
    assert [line["method"] for line in lines].count("(invalid)") == 1
    for line in lines:
        assert set(line) == {"ts", "request_id", "origin", "method", "code", "duration_ms"}
        assert line["duration_ms"] >= 0
    log = server.log()
    assert "secretlog" not in log
    assert "B62qp6y93m7HztH5jvn12gHJphzAZrZq3daD792hi8a6WSivDS62M6y" not in log


def test_the_access_log_can_be_turned_off(make_server: ServerFactory) -> None:
    server = make_server({"observability": {"access_log": "off"}, **WITHOUT_SIGNATURE_WORKERS})
    server.call("mina_accounts", request_id="quiet")
    assert server.stop() == 0
    assert _log_lines(server) == []
