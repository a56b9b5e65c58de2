"""[verification] over HTTP: signatures, trusted issuers, expiry, imported credentials."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import InProcessServerFactory
from tests.support import Server, error_code, seed_credential
from wallet_rpc.mina.keys import encode_public_key
from wallet_rpc.mina.signing import public_key_of, sign_native_credential

ISSUER_KEY = 123456789
ISSUER = encode_public_key(public_key_of(ISSUER_KEY))
OWNER = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
SAMPLES = Path(__file__).parent / "data" / "mina_attestations_samples.json"


def imported_credential() -> dict[str, Any]:
    samples = json.loads(SAMPLES.read_text(encoding="utf-8"))["samples"]
    [imported] = [sample for sample in samples if sample["name"] == "imported_proved"]
    credential: dict[str, Any] = json.loads(imported["json"])
    return credential


def signed(expires_at_ms: int | None = None, serial: str = "1") -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Alice", "serial": serial}
    if expires_at_ms is not None:
        data["expiresAt"] = {"_type": "UInt64", "value": str(expires_at_ms)}
    return sign_native_credential(ISSUER_KEY, OWNER, data)


def store(server: Server, credential: dict[str, Any]) -> dict[str, Any]:
    return server.call("mina_storePrivateCredential", {"credential": credential})


def connected(server: Server) -> Server:
    assert server.call("mina_requestAccounts")["result"] == [OWNER]
    return server


def test_docs_example_verifies_and_a_tampered_one_is_refused(in_process_server: Server) -> None:
    connected(in_process_server)
    tampered = seed_credential()
    tampered["credential"]["data"]["name"] = "zvCICy"
    answer = store(in_process_server, tampered)
    assert answer["error"]["code"] == 20003
    assert answer["error"]["data"] == {
        "field": "credential.witness.issuerSignature",
        "reason": "signature does not verify",
    }
    assert in_process_server.stored() == []
    assert "result" in store(in_process_server, seed_credential())
    [entry] = in_process_server.stored()
    assert entry["verified"] is True


@pytest.mark.parametrize("part", ["r", "s"])
def test_signature_off_by_one_is_refused(in_process_server: Server, part: str) -> None:
    connected(in_process_server)
    broken = seed_credential()
    value = broken["witness"]["issuerSignature"]["value"]
    value[part] = str(int(value[part]) + 1)
    assert error_code(store(in_process_server, broken)) == 20003
    assert in_process_server.stored() == []


def test_signed_credentials_from_our_signer_are_stored(in_process_server: Server) -> None:
    connected(in_process_server)
    for serial in ("a", "b", "c"):
        assert "result" in store(in_process_server, signed(serial=serial))
    assert [entry["verified"] for entry in in_process_server.stored()] == [True, True, True]


def test_trusted_issuers(make_in_process_server: InProcessServerFactory) -> None:
    server = connected(make_in_process_server({"verification": {"trusted_issuers": [ISSUER]}}))
    answer = store(server, seed_credential())
    assert answer["error"]["code"] == 20003
    assert answer["error"]["data"]["field"] == "credential.witness.issuer"
    assert "result" in store(server, signed())
    assert [entry["credential"]["witness"]["issuer"]["value"] for entry in server.stored()] == [
        ISSUER
    ]


def test_reject_expired(make_in_process_server: InProcessServerFactory) -> None:
    server = connected(make_in_process_server({"verification": {"reject_expired": True}}))
    now_ms = int(time.time() * 1000)
    # The docs' example expired on 2026-04-26.
    assert error_code(store(server, seed_credential())) == 20003
    expired = signed(expires_at_ms=now_ms - 60_000, serial="old")
    answer = store(server, expired)
    assert answer["error"]["data"]["field"] == "credential.credential.data.expiresAt"
    unsigned = {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "credential": expired["credential"],
    }
    assert error_code(store(server, unsigned)) == 20003
    assert "result" in store(server, signed(expires_at_ms=now_ms + 3_600_000, serial="new"))
    assert len(server.stored()) == 1


def test_expired_credentials_are_stored_by_default(in_process_server: Server) -> None:
    connected(in_process_server)
    assert "result" in store(in_process_server, signed(expires_at_ms=1_000, serial="ancient"))


def test_imported_credentials_are_stored_unverified(in_process_server: Server) -> None:
    connected(in_process_server)
    assert "result" in store(in_process_server, imported_credential())
    [entry] = in_process_server.stored()
    assert entry["witness_type"] == "imported"
    assert entry["verified"] is False


def test_imported_reject(make_in_process_server: InProcessServerFactory) -> None:
    server = connected(make_in_process_server({"verification": {"imported": "reject"}}))
    answer = store(server, imported_credential())
    assert answer["error"]["code"] == 20003
    assert answer["error"]["data"]["field"] == "credential.witness.type"
    assert server.stored() == []


def test_native_false_stores_without_checking(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = connected(make_in_process_server({"verification": {"native": False}}))
    tampered = seed_credential()
    tampered["credential"]["data"]["name"] = "someone else"
    assert "result" in store(server, tampered)
    assert [entry["verified"] for entry in server.stored()] == [False]
