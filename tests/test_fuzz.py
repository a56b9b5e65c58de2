"""Bad input of every kind against the running server: a clear error, no 500, nothing stored."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import ALLOWED_ORIGIN, Server, seed_credential

FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STORE = "mina_storePrivateCredential"
LEAK_MARKERS = ("Traceback", "Exception", "Error:", 'File "', "sqlalchemy", "pydantic")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


class Client:
    """One keep-alive HTTP connection to the server, as a busy client would hold."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._connection = http.client.HTTPConnection(server.host, server.port, timeout=30)

    def post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN}
        try:
            self._connection.request("POST", "/", body=body, headers=headers)
            reply = self._connection.getresponse()
        except (http.client.HTTPException, OSError):
            self._connection.close()
            self._connection = http.client.HTTPConnection(
                self._server.host, self._server.port, timeout=30
            )
            self._connection.request("POST", "/", body=body, headers=headers)
            reply = self._connection.getresponse()
        return reply.status, reply.read()

    def close(self) -> None:
        self._connection.close()


def assert_clean_answer(status: int, body: bytes) -> Any:
    assert status in {200, 204, 400, 413}, (status, body[:200])
    text = body.decode("utf-8")
    for marker in LEAK_MARKERS:
        assert marker not in text, text[:300]
    if status == 200:
        answer = json.loads(body)
        answers = answer if isinstance(answer, list) else [answer]
        for item in answers:
            if "error" in item:
                assert item["error"]["code"] != -32603, item
        return answer
    return None


@pytest.fixture(scope="module")
def connected(shared_in_process_server: Server) -> Iterator[Client]:
    assert shared_in_process_server.call("mina_requestAccounts")["result"]
    client = Client(shared_in_process_server)
    yield client
    client.close()


ENVELOPE_PATHS = [
    ("version",),
    ("witness", "type"),
    ("witness", "issuer", "value"),
    ("witness", "issuer", "_type"),
    ("witness", "issuerSignature", "value", "r"),
    ("witness", "issuerSignature", "value", "s"),
    ("credential", "owner", "value"),
    ("credential", "data", "birthDate", "value", "magnitude"),
    ("credential", "data", "birthDate", "value", "sgn"),
    ("credential", "data", "id", "size"),
    ("credential", "data", "id", "value"),
    ("credential", "data", "expiresAt", "value"),
    ("credential", "data", "name"),
]
# Strategies are built once, not per example: each is validated on its first draw only.
envelope_paths = st.sampled_from(ENVELOPE_PATHS)
mutation_kinds = st.sampled_from(["retype", "drop", "extra_key", "overflow", "corrupt", "huge"])
wrong_types = st.one_of(
    st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)
)
extra_keys = st.sampled_from(["extra", "_type2", "x"])
overflow_offsets = st.integers(0, 10**6)
look_alikes = st.sampled_from(["0", "O", "l", "I", "é", "\u0000", " "])
huge_lengths = st.integers(100, 5000)


@st.composite
def wrong_credentials(draw: st.DrawFn) -> dict[str, Any]:
    """The docs' credential with one change that makes it wrong, wherever it lands."""
    mutated = seed_credential()  # a fresh copy, read from the file
    path = draw(envelope_paths)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    kind = draw(mutation_kinds)
    leaf = path[-1]
    if kind == "retype":
        parent[leaf] = draw(wrong_types)
    elif kind == "drop":
        del parent[leaf]
    elif kind == "extra_key":
        parent[draw(extra_keys)] = 1
    elif kind == "overflow":
        parent[leaf] = str(2**256 + draw(overflow_offsets))
    elif kind == "corrupt":
        original = str(parent[leaf])
        position = draw(st.integers(0, max(len(original) - 1, 0)))
        parent[leaf] = original[:position] + draw(look_alikes) + original[position + 1 :] + "!"
    else:
        parent[leaf] = "9" * draw(huge_lengths)
    return mutated


# 10,000 bad requests of three kinds, each kind a test of its own so that the
# three run side by side. Bad input is refused before the storage layer, which
# only answers the connection check: they run once, on SQLite, which keeps CI's
# time for what differs between the backends.
BAD_REQUESTS = {"bytes": 3000, "envelopes": 3500, "credentials": 3500}
assert sum(BAD_REQUESTS.values()) == 10_000
# Each example is a batch of requests, sent one by one: hypothesis spends more
# on an example's bookkeeping than on drawing one request (half these tests'
# CPU went to it). A failing batch still shrinks, to the failing request among
# nine of the simplest.
BATCH = 10
on_sqlite_once = pytest.mark.parametrize("shared_in_process_server", ["sqlite"], indirect=True)


def send_bad_requests(
    server: Server, client: Client, kind: str, bodies: st.SearchStrategy[bytes], code: int | None
) -> None:
    """Send BAD_REQUESTS[kind] bodies, checking each answer (and its error code, if given);
    afterwards, all were sent, none stored, and the server is healthy."""
    before = len(server.stored())
    sent: list[int] = []

    @settings(FUZZ_SETTINGS, max_examples=BAD_REQUESTS[kind] // BATCH)
    @given(st.lists(bodies, min_size=BATCH, max_size=BATCH))
    def send(batch: list[bytes]) -> None:
        for body in batch:
            sent.append(len(body))
            answer = assert_clean_answer(*client.post(body))
            if code is not None:
                assert answer["error"]["code"] == code, answer

    send()
    assert len(sent) >= BAD_REQUESTS[kind]
    assert len(server.stored()) == before
    assert server.get("/healthz").status == 200


def envelope_body(message: Any) -> bytes:
    if isinstance(message, dict) and message.get("method") == STORE:
        message = {**message, "method": STORE + "!"}
    return json.dumps(message).encode("utf-8", "surrogatepass")


def store_body(mutated: dict[str, Any], params_shape: str, ascii_only: bool) -> bytes:
    params = {"credential": mutated} if params_shape == "by_name" else [mutated]
    message = {"jsonrpc": "2.0", "id": 1, "method": STORE, "params": params}
    return json.dumps(message, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


raw_bodies = st.binary(max_size=300) | st.text(max_size=200).map(
    lambda text: text.encode("utf-8", "surrogatepass")
)
envelope_bodies = (
    st.dictionaries(
        st.sampled_from(["jsonrpc", "method", "params", "id", "extra"]), json_values, max_size=5
    )
    | st.lists(json_values, max_size=4)
    | json_values
).map(envelope_body)
store_bodies = st.builds(
    store_body, wrong_credentials(), st.sampled_from(["by_name", "by_position"]), st.booleans()
)


@pytest.mark.slow
@on_sqlite_once
def test_fuzz_bad_bytes(shared_in_process_server: Server, connected: Client) -> None:
    send_bad_requests(shared_in_process_server, connected, "bytes", raw_bodies, code=None)


@pytest.mark.slow
@on_sqlite_once
def test_fuzz_bad_envelopes(shared_in_process_server: Server, connected: Client) -> None:
    send_bad_requests(shared_in_process_server, connected, "envelopes", envelope_bodies, code=None)


@pytest.mark.slow
@on_sqlite_once
def test_fuzz_bad_credentials(shared_in_process_server: Server, connected: Client) -> None:
    send_bad_requests(shared_in_process_server, connected, "credentials", store_bodies, code=20003)


names = st.text(max_size=40)
new_keys = st.text(min_size=1, max_size=10)
new_values = st.text(max_size=10)


@st.composite
def right_credentials(draw: st.DrawFn) -> dict[str, Any]:
    """The docs' credential with other data (unicode, metadata, new keys), not made wrong."""
    changed = seed_credential()
    changed["credential"]["data"]["name"] = draw(names)
    if draw(st.booleans()):
        changed["metadata"] = draw(json_values)
    if draw(st.booleans()):
        changed["credential"]["data"][draw(new_keys)] = draw(new_values)
    return changed


def test_mutations_store_exactly_the_successes(make_in_process_server: Any) -> None:
    server: Server = make_in_process_server({"verification": {"native": False}})
    server.call("mina_requestAccounts")
    client = Client(server)
    successes: set[str] = set()

    @settings(FUZZ_SETTINGS, max_examples=300)
    @given(wrong_credentials() | right_credentials())
    def store_mutated(credential: dict[str, Any]) -> None:
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": STORE,
            "params": {"credential": credential},
        }
        answer = assert_clean_answer(
            *client.post(json.dumps(message).encode("utf-8", "surrogatepass"))
        )
        if "result" in answer:
            # Read back and written as the stored side is below: S writes numbers
            # as JavaScript does (1e-7), Python's json.dumps as Python does (1e-07).
            stored_form = json.loads(answer["result"]["credential"])
            successes.add(json.dumps(stored_form, separators=(",", ":"), ensure_ascii=False))
        else:
            assert answer["error"]["code"] == 20003, answer

    try:
        store_mutated()
    finally:
        client.close()
    stored = {
        json.dumps(entry["credential"], separators=(",", ":"), ensure_ascii=False)
        for entry in server.stored()
    }
    assert stored == successes
    assert successes, "no mutation was a valid credential: the test proves nothing"
