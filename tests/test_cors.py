"""CORS: allowed origins can read answers; others get no CORS headers."""

from __future__ import annotations

from tests.conftest import InProcessServerFactory
from tests.support import Server

CALL = {"jsonrpc": "2.0", "method": "wallet_info", "id": 1}


def test_allowed_origin_gets_its_origin_back(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(CALL, origin="http://localhost:5173")
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Origin" in response.headers["Vary"]


def test_disallowed_origin_gets_no_cors_headers(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.post(CALL, origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json()["error"]["code"] == 23001


def test_preflight_from_allowed_origin(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.request(
        "OPTIONS",
        "/",
        headers={
            "Origin": "http://127.0.0.1:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_from_disallowed_origin(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.request(
        "OPTIONS",
        "/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert not any(name.startswith("Access-Control-") for name in response.headers)


def test_wildcard_origin_pattern(make_in_process_server: InProcessServerFactory) -> None:
    server = make_in_process_server({"security": {"allowed_origins": ["https://*.example.org"]}})
    allowed = server.post(CALL, origin="https://app.example.org")
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    for refused in ("https://example.org", "https://a.b.example.org", "http://app.example.org"):
        response = server.post(CALL, origin=refused)
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.json()["error"]["code"] == 23001


def test_router_refusals_follow_the_same_rules(shared_in_process_server: Server) -> None:
    """Unknown paths and methods get the plain answers and the CORS headers of every route."""
    origin = {"Origin": "http://localhost:5173"}
    missing = shared_in_process_server.request("POST", "/no/such/path", headers=origin)
    assert (missing.status, missing.body) == (404, b"Not Found\n")
    assert missing.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    refused = shared_in_process_server.request("PUT", "/healthz", headers=origin)
    assert (refused.status, refused.body) == (405, b"Method Not Allowed\n")
    assert refused.headers["Allow"] == "GET, HEAD"
    assert refused.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Origin" in refused.headers["Vary"]
