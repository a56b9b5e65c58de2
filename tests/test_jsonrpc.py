"""JSON-RPC 2.0 conformance over real HTTP: section 7 of the specification and more."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import InProcessServerFactory
from tests.support import Server, error_code


def invalid_request_answer(answer: dict[str, Any]) -> None:
    assert answer["jsonrpc"] == "2.0"
    assert answer["id"] is None
    assert answer["error"]["code"] == -32600
    assert answer["error"]["message"] == "Invalid Request"


def test_call_with_id_echoes_result(shared_in_process_server: Server) -> None:
    answer = shared_in_process_server.call("wallet_info", request_id="abc")
    assert answer == {
        "jsonrpc": "2.0",
        "result": {"version": answer["result"]["version"], "init": True},
        "id": "abc",
    }


@pytest.mark.parametrize("request_id", [0, -7, 2**70, 1.5, "", "é", None])
def test_id_is_echoed_exactly(shared_in_process_server: Server, request_id: Any) -> None:
    answer = shared_in_process_server.call("wallet_info", request_id=request_id)
    assert answer["id"] == request_id
    assert type(answer["id"]) is type(request_id)


def test_notification_gets_no_body(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post({"jsonrpc": "2.0", "method": "wallet_info"})
    assert response.status == 204
    assert response.body == b""


def test_unknown_method(shared_in_process_server: Server) -> None:
    answer = shared_in_process_server.call("foobar", request_id="1")
    assert answer == {
        "jsonrpc": "2.0",
        "error": {"code": -32601, "message": "Method not found"},
        "id": "1",
    }


def test_reserved_rpc_method_is_not_found(shared_in_process_server: Server) -> None:
    assert error_code(shared_in_process_server.call("rpc.foo")) == -32601


def test_invalid_json(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(
        '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'
    )
    assert response.status == 200
    assert response.json() == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
        "id": None,
    }


def test_invalid_request_object(shared_in_process_server: Server) -> None:
    invalid_request_answer(
        shared_in_process_server.post({"jsonrpc": "2.0", "method": 1, "params": "bar"}).json()
    )


def test_batch_invalid_json(shared_in_process_server: Server) -> None:
    body = (
        '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},'
        '{"jsonrpc": "2.0", "method"]'
    )
    assert shared_in_process_server.post(body).json()["error"]["code"] == -32700


def test_empty_batch_is_one_invalid_request(shared_in_process_server: Server) -> None:
    invalid_request_answer(shared_in_process_server.post("[]").json())


def test_batch_of_one_non_request(shared_in_process_server: Server) -> None:
    answers = shared_in_process_server.post("[1]").json()
    assert isinstance(answers, list)
    assert len(answers) == 1
    invalid_request_answer(answers[0])


def test_batch_of_three_non_requests(shared_in_process_server: Server) -> None:
    answers = shared_in_process_server.post("[1, 2, 3]").json()
    assert len(answers) == 3
    for answer in answers:
        invalid_request_answer(answer)


def test_batch_of_null(shared_in_process_server: Server) -> None:
    answers = shared_in_process_server.post("[null]").json()
    assert len(answers) == 1
    invalid_request_answer(answers[0])


def test_mixed_batch_answers_each_item(shared_in_process_server: Server) -> None:
    batch = [
        {"jsonrpc": "2.0", "method": "wallet_info", "id": "1"},
        {"jsonrpc": "2.0", "method": "mina_accounts", "params": [7]},
        {"jsonrpc": "2.0", "method": "mina_accounts", "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "wallet_info", "id": "9"},
    ]
    answers = shared_in_process_server.post(batch).json()
    by_id = {json.dumps(answer["id"]): answer for answer in answers}
    assert len(answers) == 5
    assert by_id['"1"']["result"]["init"] is True
    assert by_id['"2"']["result"] == []
    assert by_id['"5"']["error"] == {"code": -32601, "message": "Method not found"}
    assert by_id['"9"']["result"]["init"] is True
    invalid_request_answer(by_id["null"])


def test_batch_of_notifications_gets_no_body(shared_in_process_server: Server) -> None:
    batch = [
        {"jsonrpc": "2.0", "method": "mina_accounts", "params": [1, 2, 4]},
        {"jsonrpc": "2.0", "method": "wallet_info", "params": [7]},
    ]
    response = shared_in_process_server.post(batch)
    assert response.status == 204
    assert response.body == b""


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "1.0", "method": "wallet_info", "id": 1},
        {"method": "wallet_info", "id": 1},
        {"jsonrpc": 2.0, "method": "wallet_info", "id": 1},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "method": "wallet_info", "params": "bar", "id": 1},
        {"jsonrpc": "2.0", "method": "wallet_info", "params": 3, "id": 1},
        {"jsonrpc": "2.0", "method": "wallet_info", "params": None, "id": 1},
        {"jsonrpc": "2.0", "method": "wallet_info", "id": {"a": 1}},
        {"jsonrpc": "2.0", "method": "wallet_info", "id": [1]},
        {"jsonrpc": "2.0", "method": "wallet_info", "id": True},
        "a string",
        "",
        42,
        None,
    ],
)
def test_invalid_requests(shared_in_process_server: Server, message: Any) -> None:
    response = shared_in_process_server.post(json.dumps(message))
    assert response.status == 200
    invalid_request_answer(response.json())


def test_batch_over_max_batch_is_one_error(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"server": {"max_batch": 3}})
    call = {"jsonrpc": "2.0", "method": "wallet_info", "id": 1}
    assert len(server.post([call] * 3).json()) == 3
    invalid_request_answer(server.post([call] * 4).json())


def test_body_one_byte_over_limit_is_413(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"server": {"max_body_bytes": 200}})
    fitting = json.dumps({"jsonrpc": "2.0", "method": "wallet_info", "id": "x"})
    fitting = fitting[:-1] + " " * (200 - len(fitting)) + "}"
    assert len(fitting) == 200
    assert server.post(fitting).status == 200
    over = fitting[:-1] + " }"
    response = server.post(over)
    assert response.status == 413
    assert b"Traceback" not in response.body


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(shared_in_process_server: Server, content_type: str) -> None:
    response = shared_in_process_server.post(
        {"jsonrpc": "2.0", "method": "wallet_info", "id": 1}, content_type=content_type
    )
    assert response.status == 415


def test_content_type_parameters_are_allowed(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(
        {"jsonrpc": "2.0", "method": "wallet_info", "id": 1},
        content_type="application/json; charset=utf-8",
    )
    assert response.status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_http_methods_on_root_are_405(shared_in_process_server: Server, method: str) -> None:
    response = shared_in_process_server.request(method, "/")
    assert response.status == 405
    assert "POST" in response.headers["Allow"]


def test_invalid_utf8_is_parse_error(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(
        b'{"jsonrpc": "2.0", "method": "wallet_info", "id": "\xff\xfe"}'
    )
    assert response.status == 200
    assert response.json()["error"]["code"] == -32700


def test_deep_nesting_is_an_error_not_a_crash(shared_in_process_server: Server) -> None:
    for body in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        response = shared_in_process_server.post(body)
        assert response.status == 200
        assert response.json()["error"]["code"] in {-32700, -32600}
    assert shared_in_process_server.get("/healthz").status == 200


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "1" * 5000])
def test_numbers_out_of_range_are_parse_errors(
    shared_in_process_server: Server, number: str
) -> None:
    response = shared_in_process_server.post(
        '{"jsonrpc": "2.0", "method": "wallet_info", "id": ' + number + "}"
    )
    assert response.status == 200
    assert response.json()["error"]["code"] == -32700


def test_lone_surrogate_in_id_is_answered_as_json(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(
        '{"jsonrpc": "2.0", "method": "wallet_info", "id": "\\ud800"}'
    )
    assert response.status == 200
    assert response.json()["id"] == "\ud800"


def test_healthz_reports_ok(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.get("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_every_answer_is_json_content(shared_in_process_server: Server) -> None:
    for body in ("[]", "{", '{"jsonrpc": "2.0", "method": "nope", "id": 1}'):
        response = shared_in_process_server.post(body)
        assert response.headers["Content-Type"].startswith("application/json")
