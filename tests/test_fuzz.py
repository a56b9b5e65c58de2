"""Bad input of every kind against the running server: a clear error, no 500, nothing stored."""

from __future__ import annotations

import copy
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


def mutate(credential: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """One change that makes the docs' credential wrong, wherever it lands."""
    mutated = copy.deepcopy(credential)
    envelope_paths = [
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
    path = data.draw(st.sampled_from(envelope_paths))
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    kind = data.draw(
        st.sampled_from(["retype", "drop", "extra_key", "overflow", "corrupt", "huge"])
    )
    leaf = path[-1]
    if kind == "retype":
        parent[leaf] = data.draw(
            st.one_of(st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
        )
    elif kind == "drop":
        del parent[leaf]
    elif kind == "extra_key":
        parent[data.draw(st.sampled_from(["extra", "_type2", "x"]))] = 1
    elif kind == "overflow":
        parent[leaf] = str(2**256 + data.draw(st.integers(0, 10**6)))
    elif kind == "corrupt":
        original = str(parent[leaf])
        position = data.draw(st.integers(0, max(len(original) - 1, 0)))
        replacement = data.draw(st.sampled_from(["0", "O", "l", "I", "é", "\u0000", " "]))
        parent[leaf] = original[:position] + replacement + original[position + 1 :] + "!"
    else:
        parent[leaf] = "9" * data.draw(st.integers(100, 5000))
    return mutated


# Bad input is refused before the storage layer, which only answers the
# connection check: the 10,000 run once, on SQLite, keeps CI's time for
# what differs between the backends.
@pytest.mark.slow
@pytest.mark.parametrize("shared_in_process_server", ["sqlite"], indirect=True)
def test_fuzz_ten_thousand_bad_requests(
    shared_in_process_server: Server, connected: Client
) -> None:
    before = len(shared_in_process_server.stored())
    counts = {"bytes": 0, "envelopes": 0, "credentials": 0}

    @settings(FUZZ_SETTINGS, max_examples=3000)
    @given(
        st.binary(max_size=300)
        | st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))
    )
    def raw_bodies(body: bytes) -> None:
        counts["bytes"] += 1
        assert_clean_answer(*connected.post(body))

    @settings(FUZZ_SETTINGS, max_examples=3500)
    @given(
        st.dictionaries(
            st.sampled_from(["jsonrpc", "method", "params", "id", "extra"]), json_values, max_size=5
        )
        | st.lists(json_values, max_size=4)
        | json_values
    )
    def envelopes(message: Any) -> None:
        counts["envelopes"] += 1
        if isinstance(message, dict) and message.get("method") == "mina_storePrivateCredential":
            message["method"] = "mina_storePrivateCredential!"
        body = json.dumps(message).encode("utf-8", "surrogatepass")
        assert_clean_answer(*connected.post(body))

    @settings(FUZZ_SETTINGS, max_examples=3500)
    @given(st.data())
    def credentials(data: st.DataObject) -> None:
        counts["credentials"] += 1
        mutated = mutate(seed_credential(), data)
        message = {"jsonrpc": "2.0", "id": 1, "method": "mina_storePrivateCredential"}
        message["params"] = data.draw(st.sampled_from([{"credential": mutated}, [mutated]]))
        body = json.dumps(message, ensure_ascii=data.draw(st.booleans())).encode(
            "utf-8", "surrogatepass"
        )
        answer = assert_clean_answer(*connected.post(body))
        assert answer["error"]["code"] == 20003, answer

    raw_bodies()
    envelopes()
    credentials()
    assert sum(counts.values()) >= 10_000
    assert len(shared_in_process_server.stored()) == before
    assert shared_in_process_server.get("/healthz").status == 200


def benign_or_bad(credential: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Either a wrong credential or a right one with other data (unicode, metadata, new keys)."""
    if data.draw(st.booleans()):
        return mutate(credential, data)
    changed = copy.deepcopy(credential)
    changed["credential"]["data"]["name"] = data.draw(st.text(max_size=40))
    if data.draw(st.booleans()):
        changed["metadata"] = data.draw(json_values)
    if data.draw(st.booleans()):
        changed["credential"]["data"][data.draw(st.text(min_size=1, max_size=10))] = data.draw(
            st.text(max_size=10)
        )
    return changed


def test_mutations_store_exactly_the_successes(make_in_process_server: Any) -> None:
    server: Server = make_in_process_server({"verification": {"native": False}})
    server.call("mina_requestAccounts")
    client = Client(server)
    successes: set[str] = set()

    @settings(FUZZ_SETTINGS, max_examples=300)
    @given(st.data())
    def store_mutated(data: st.DataObject) -> None:
        credential = benign_or_bad(seed_credential(), data)
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "mina_storePrivateCredential",
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
