"""GET /provider.js: the browser script, readable (CORS) by allowed origins only."""

from __future__ import annotations

from tests.support import REPO, Server

ALLOWED = "http://localhost:5173"
PROVIDER_SOURCE = REPO / "wallet_rpc" / "static" / "provider.js"


def test_served_as_javascript_to_an_allowed_origin(shared_in_process_server: Server) -> None:
    response = shared_in_process_server.get("/provider.js", headers={"Origin": ALLOWED})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.body == PROVIDER_SOURCE.read_bytes()


def test_disallowed_origin_gets_the_script_but_no_cors_headers(
    shared_in_process_server: Server,
) -> None:
    response = shared_in_process_server.get(
        "/provider.js", headers={"Origin": "https://evil.example"}
    )
    assert response.status == 200
    assert not any(name.startswith("Access-Control-") for name in response.headers)


def test_unchanged_script_revalidates_with_304(shared_in_process_server: Server) -> None:
    etag = shared_in_process_server.get("/provider.js").headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = shared_in_process_server.get("/provider.js", headers={"If-None-Match": header})
        assert response.status == 304, header
        assert response.body == b""
        assert response.headers["ETag"] == etag
    changed = shared_in_process_server.get("/provider.js", headers={"If-None-Match": '"other"'})
    assert changed.status == 200
    assert changed.body == PROVIDER_SOURCE.read_bytes()
