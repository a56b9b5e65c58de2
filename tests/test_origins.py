"""One origin is one origin: its normal form is what is allowed, recorded and echoed (SPEC 2, 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import InProcessServerFactory
from tests.in_process import InProcessServer
from tests.operations_support import audit_of
from tests.raw_http import raw_request, wallet_call
from tests.support import Server, error_code
from tests.test_fuzz import FUZZ_SETTINGS

ORIGINS = {
    "security": {
        "allowed_origins": ["http://localhost:5173", "https://k.example.org", "http://[::1]:8080"]
    }
}
ORIGIN_MISMATCH = 23001


def mangle_case(text: str, flips: list[bool]) -> str:
    return "".join(
        character.upper() if flip else character
        for character, flip in zip(text, flips + [False] * len(text), strict=False)
    )


@pytest.fixture(scope="module")
def origin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # SQLite alone: nothing here depends on the store, all on the origin rules.
    workdir = tmp_path_factory.mktemp("origins")
    server = InProcessServer(
        workdir,
        {
            "database": {"url": f"sqlite+aiosqlite:///{workdir / 'wallet.db'}"},
            **ORIGINS,
        },
    )
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("sent", "normal"),
    [
        ("HTTP://LOCALHOST:5173", "http://localhost:5173"),
        ("http://LocalHost:05173", "http://localhost:5173"),
        ("HTTPS://K.Example.ORG:443", "https://k.example.org"),
        ("https://k.example.org", "https://k.example.org"),
        ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"),
    ],
)
def test_an_origin_in_any_spelling_is_allowed_and_echoed_in_normal_form(
    origin_server: Server, sent: str, normal: str
) -> None:
    response = origin_server.post(wallet_call("wallet_info"), origin=sent)
    assert response.json()["result"]["init"] is True
    assert response.headers["Access-Control-Allow-Origin"] == normal
    preflight = origin_server.request(
        "OPTIONS", "/", headers={"Origin": sent, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == normal


@FUZZ_SETTINGS
@given(flips=st.lists(st.booleans(), max_size=30), default_port=st.booleans())
def test_every_case_variant_is_the_one_origin(
    origin_server: Server, flips: list[bool], default_port: bool
) -> None:
    sent = mangle_case("https://k.example.org", flips) + (":443" if default_port else "")
    response = origin_server.post(wallet_call("wallet_info"), origin=sent)
    assert "result" in response.json()
    assert response.headers["Access-Control-Allow-Origin"] == "https://k.example.org"


@pytest.mark.parametrize(
    "header_value",
    [
        pytest.param("https://\u212a.example.org".encode(), id="Kelvin sign K"),
        pytest.param("https://\u212a.EXAMPLE.org".encode(), id="Kelvin sign, upper case"),
        pytest.param("http://\uff4cocalhost:5173".encode(), id="fullwidth l"),
        pytest.param("http://\u0130ocalhost:5173".encode(), id="dotted capital I"),
        pytest.param(b"http://localhost:\xd9\xa5173", id="Arabic-Indic digit"),
        pytest.param(b"http://localhost:5173\xc2\xa0", id="no-break space"),
        pytest.param(b"http://localhost\xff:5173", id="byte that is not UTF-8"),
    ],
)
def test_an_origin_that_is_not_ascii_is_refused(origin_server: Server, header_value: bytes) -> None:
    answer = raw_request(origin_server, [b"Origin: " + header_value], wallet_call("wallet_info"))
    assert answer.status == 200
    assert error_code(answer.json()) == ORIGIN_MISMATCH
    assert answer.headers.get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([b"http://localhost:5173", b"http://localhost:5173"], id="same twice"),
        pytest.param([b"http://localhost:5173", b"https://evil.example"], id="allowed first"),
        pytest.param([b"https://evil.example", b"http://localhost:5173"], id="allowed last"),
        pytest.param([b"http://localhost:5173", b""], id="one empty"),
    ],
)
def test_more_than_one_origin_header_is_refused(origin_server: Server, values: list[bytes]) -> None:
    lines = [b"Origin: " + value for value in values]
    answer = raw_request(origin_server, lines, wallet_call("mina_requestAccounts"))
    assert error_code(answer.json()) == ORIGIN_MISMATCH
    assert answer.headers.get("Access-Control-Allow-Origin") is None
    # mina_accounts never fails, as in Auro: it answers as to a stranger.
    accounts = raw_request(origin_server, lines, wallet_call("mina_accounts"))
    assert accounts.json()["result"] == []
    assert accounts.headers.get("Access-Control-Allow-Origin") is None
    preflight = raw_request(
        origin_server, [*lines, b"Access-Control-Request-Method: POST"], method=b"OPTIONS"
    )
    assert preflight.status == 403
    assert preflight.headers.get("Access-Control-Allow-Origin") is None


def test_a_connection_made_in_one_spelling_holds_for_every_other(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server(ORIGINS)
    assert server.call("mina_requestAccounts", origin="HTTP://LOCALHOST:5173")["result"]
    assert server.call("mina_accounts", origin="http://localhost:5173")["result"]
    assert server.call("wallet_revokePermissions", origin="http://LOCALHOST:5173")["result"] == []
    assert server.call("mina_accounts", origin="Http://Localhost:5173")["result"] == []
    entries = audit_of(server, 4)
    assert {entry["origin"] for entry in entries} == {"http://localhost:5173"}
