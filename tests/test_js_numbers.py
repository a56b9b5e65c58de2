"""Numbers in the stored form S: as JSON.stringify writes the double JSON.parse makes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Server, error_code, seed_credential
from wallet_rpc.rpc.envelope import parse_json
from wallet_rpc.service.credential import parse_store_params
from wallet_rpc.service.credential.js_number import as_javascript_number, javascript_number_text

LIMIT = 102400
NODE = "/usr/bin/node"
# One line in, JavaScript's own text for the same JSON out.
NODE_ROUND_TRIP = (
    "require('readline').createInterface({input: process.stdin})"
    ".on('line', (line) => process.stdout.write(JSON.stringify(JSON.parse(line)) + '\\n'));"
)


# --- the formatter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"),
    [
        # SPEC 4's examples
        (1e-7, "1e-7"),
        (1e16, "10000000000000000"),
        (1e21, "1e+21"),
        (12345678901234567890.0, "12345678901234567000"),
        (0.1, "0.1"),
        (-0.0, "0"),
        # Number.prototype.toString's other edges
        (0.0, "0"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1e-5, "0.00001"),
        (1.5e-9, "1.5e-9"),
        (1e-10, "1e-10"),
        (123.456, "123.456"),
        (-2.5e25, "-2.5e+25"),
        (999999999999999900000.0, "999999999999999900000"),
        (2.0**60, "1152921504606847000"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (1.0, "1"),
        (-42.0, "-42"),
    ],
)
def test_numbers_are_written_as_javascript_writes_them(number: float, text: str) -> None:
    assert javascript_number_text(number) == text


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_only_finite_numbers_have_a_text(number: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        javascript_number_text(number)


@pytest.mark.parametrize(
    ("number", "held"),
    [
        (12345678901234567890, 12345678901234567000),  # an integer through the double
        (2**53, 2**53),
        (2**53 + 1, 2**53),
        (-0.0, 0),
        (1.0, 1),
        (1e16, 10**16),
        (0.5, 0.5),
        (1e21, 1e21),
        (10**21, 1e21),
    ],
)
def test_numbers_are_held_as_the_double_javascript_reads(number: float, held: float) -> None:
    value = as_javascript_number(number)
    assert value == held
    assert type(value) is type(held)


def test_integers_beyond_the_doubles_are_out_of_range() -> None:
    largest_finite = 2**1024 - 2**970 - 1  # JavaScript reads anything above as Infinity
    assert as_javascript_number(largest_finite) == 1.7976931348623157e308
    with pytest.raises(OverflowError):
        as_javascript_number(largest_finite + 1)


# --- S's numbers against node's -----------------------------------------------------------


def stored_metadata_text(body: bytes) -> str:
    """The metadata part of S for a credential whose metadata is the JSON array body."""
    credential = seed_credential()
    credential["metadata"] = parse_json(body)  # the server's own request parser
    stored = parse_store_params({"credential": credential}, max_credential_bytes=LIMIT).stored_json
    start = stored.index('"metadata":') + len('"metadata":')
    return stored[start : stored.index(',"credential":{', start)]


@pytest.fixture(scope="module")
def node() -> Iterator[subprocess.Popen[str]]:
    """One node process for the property test, answering JSON.stringify(JSON.parse(line))."""
    if not shutil.which(NODE):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NODE} is missing: CI must compare S's numbers with JavaScript's")
        pytest.skip(f"{NODE} is missing: no JavaScript to compare S's numbers with")
    with subprocess.Popen(
        [NODE, "-e", NODE_ROUND_TRIP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        yield process
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=30) == 0


def javascript_text(node: subprocess.Popen[str], body: bytes) -> str:
    assert node.stdin is not None
    assert node.stdout is not None
    node.stdin.write(body.decode("ascii") + "\n")
    node.stdin.flush()
    return node.stdout.readline().rstrip("\n")


def finite(text: str) -> bool:
    try:
        return float(text) not in (float("inf"), float("-inf"))
    except OverflowError:
        return False


number_texts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.integers(0, 1023).map(lambda bits: str(2**bits)),
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(
        [
            "1e-7",
            "1e21",
            "1e-6",
            "9.999999999999999e20",
            "0.000001",
            "5e-324",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "12345678901234567890",
            "-0",
            "-0.0",
        ]
    ),
).filter(finite)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(number_texts, min_size=1, max_size=40))
def test_numbers_in_s_are_nodes_json_stringify_of_json_parse(
    node: subprocess.Popen[str], texts: list[str]
) -> None:
    body = ("[" + ",".join(texts) + "]").encode("ascii")
    assert stored_metadata_text(body) == javascript_text(node, body)


# --- over HTTP ------------------------------------------------------------------------------

SENT = (
    "[1e-7,1E-7,10000000000000000,1e21,12345678901234567890,0.1,-0,-0.0,1.0,"
    "0.000001,1.5e-9,-2.5E+25,0.00001,5e-324,100e-2]"
)
# What node prints for JSON.stringify(JSON.parse(SENT)).
JAVASCRIPT = (
    "[1e-7,1e-7,10000000000000000,1e+21,12345678901234567000,0.1,0,0,1,"
    "0.000001,1.5e-9,-2.5e+25,0.00001,5e-324,1]"
)


def store_body(metadata_text: str, credential: dict[str, Any] | None = None) -> str:
    credential = credential or seed_credential()
    credential["metadata"] = "METADATA"
    params = json.dumps({"credential": credential}).replace('"METADATA"', metadata_text)
    return f'{{"jsonrpc":"2.0","id":1,"method":"mina_storePrivateCredential","params":{params}}}'


def test_stored_numbers_are_javascripts_over_http(in_process_server: Server) -> None:
    in_process_server.call("mina_requestAccounts")
    answer = json.loads(in_process_server.post(store_body(SENT)).body)
    stored = answer["result"]["credential"]
    assert f'"metadata":{JAVASCRIPT},"credential":' in stored
    # A duplicate (other metadata) is answered with the stored bytes: the same S.
    again = json.loads(in_process_server.post(store_body("[1e-7]")).body)
    assert again["result"]["credential"] == stored
    assert len(in_process_server.stored()) == 1


@pytest.mark.parametrize(
    ("metadata_text", "code"),
    [
        ("[1e400]", -32700),  # the request's JSON has no number for it
        ("[-1e400]", -32700),
        ("[1" + "0" * 400 + "]", 20003),  # a JavaScript wallet would read Infinity
    ],
)
def test_numbers_beyond_the_doubles_are_refused_cleanly(
    in_process_server: Server, metadata_text: str, code: int
) -> None:
    in_process_server.call("mina_requestAccounts")
    response = in_process_server.post(store_body(metadata_text))
    assert response.status == 200
    assert error_code(json.loads(response.body)) == code
    assert in_process_server.stored() == []
