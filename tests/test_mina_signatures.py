"""Native-credential signatures: the library's verdicts on the recorded vectors, and
properties of credentials signed here (any change to what is signed breaks the
signature; metadata and the position of integer-like keys do not)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet_rpc.mina.credential_hash import credential_hash
from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.keys import PublicKey, decode_public_key, encode_public_key
from wallet_rpc.mina.signature import verify_native_credential, verify_signature
from wallet_rpc.mina.signing import public_key_of, sign, sign_native_credential

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "native_credentials.json").read_text("utf-8")
)
# More cases run through the same library: dynamic values, "__proto__" keys, Struct
# ordering, nested records, Signature/Undefined values, the Struct form of credential.
MORE_VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "native_credentials_more.json").read_text("utf-8")
)["vectors"]
ISSUER_PRIVATE_KEY = int(VECTORS["keys"]["issuer_private_bigint"])
OWNER = VECTORS["keys"]["owner_public"]
OTHER_KEY = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
# vectors the library refuses for their format rather than their signature
REFUSED_FORMAT = {"t8_raw_number", "t9_nested_plain_object", "unsigned_witness"}
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def vector_ids() -> list[str]:
    return [vector["name"] for vector in VECTORS["vectors"]]


def vector(name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in VECTORS["vectors"] if v["name"] == name)
    return found


def owner_and_data(document: dict[str, Any]) -> tuple[PublicKey, dict[str, Any]]:
    credential = document["credential"]
    return decode_public_key(credential["owner"]["value"]), credential["data"]


@pytest.mark.parametrize("name", vector_ids())
def test_verdict_matches_the_library(name: str) -> None:
    recorded = vector(name)
    assert verify_native_credential(json.loads(recorded["json"])) is recorded["expected"]


@pytest.mark.parametrize("recorded", MORE_VECTORS, ids=[v["name"] for v in MORE_VECTORS])
def test_verdict_matches_the_library_on_more_cases(recorded: dict[str, Any]) -> None:
    assert verify_native_credential(json.loads(recorded["json"])) is recorded["expected"]


@pytest.mark.parametrize(
    "recorded",
    [v for v in MORE_VECTORS if v["expected"] and v["name"] != "struct_credential"],
    ids=lambda v: str(v["name"]),
)
def test_signing_more_cases_reproduces_the_library(recorded: dict[str, Any]) -> None:
    """Entries the library ignores ("__proto__", Struct value order and extra keys) do
    not change the hash, so the deterministic signature comes out the same."""
    document = json.loads(recorded["json"])
    credential = document["credential"]
    signed = sign_native_credential(
        ISSUER_PRIVATE_KEY, credential["owner"]["value"], credential["data"]
    )
    assert json.dumps(signed, separators=(",", ":"), ensure_ascii=False) == recorded["json"]


@pytest.mark.parametrize("name", [v["name"] for v in VECTORS["vectors"] if "credHash" in v])
def test_credential_hash_matches_the_library(name: str) -> None:
    recorded = vector(name)
    owner, data = owner_and_data(json.loads(recorded["json"]))
    assert credential_hash(owner, data) == int(recorded["credHash"])


@pytest.mark.parametrize("name", ["t8_raw_number", "t9_nested_plain_object"])
def test_data_the_library_refuses_raises_value_error(name: str) -> None:
    owner, data = owner_and_data(json.loads(vector(name)["json"]))
    with pytest.raises(ValueError, match=r"raw JSON|_type"):
        credential_hash(owner, data)


def test_every_refused_format_vector_is_covered() -> None:
    refused = {v["name"] for v in VECTORS["vectors"] if not v["expected"]}
    assert refused >= REFUSED_FORMAT


@pytest.mark.parametrize(
    "name", ["v1_basic", "v2_ints_bytes", "v3_pubkey_struct_unicode", "intkeys_canonical"]
)
def test_signing_reproduces_the_library_byte_for_byte(name: str) -> None:
    """Same nonce derivation as o1js: the same key signs the same credential identically."""
    recorded = vector(name)
    document = json.loads(recorded["json"])
    extra = {"metadata": document["metadata"]} if "metadata" in document else {}
    signed = sign_native_credential(
        ISSUER_PRIVATE_KEY,
        document["credential"]["owner"]["value"],
        document["credential"]["data"],
        **extra,
    )
    assert json.dumps(signed, separators=(",", ":"), ensure_ascii=False) == recorded["json"]


def test_sign_then_verify_signature() -> None:
    message = [1, 2, P - 1]
    r, s = sign(ISSUER_PRIVATE_KEY, message)
    issuer = public_key_of(ISSUER_PRIVATE_KEY)
    assert verify_signature(issuer, message, r, s)
    assert not verify_signature(issuer, [1, 2, P - 2], r, s)
    assert not verify_signature(issuer, message[:2], r, s)
    assert not verify_signature(decode_public_key(OTHER_KEY), message, r, s)


@pytest.mark.parametrize(
    ("r_change", "s_change"),
    [(P, 0), (-P, 0), (0, Q), (0, -Q), (1, 0), (0, 1), (0, Q - 1)],
)
def test_signature_out_of_range_or_changed_is_false(r_change: int, s_change: int) -> None:
    message = [42]
    r, s = sign(ISSUER_PRIVATE_KEY, message)
    issuer = public_key_of(ISSUER_PRIVATE_KEY)
    assert not verify_signature(issuer, message, r + r_change, s + s_change)


def test_public_key_off_the_curve_is_false_not_an_error() -> None:
    r, s = sign(ISSUER_PRIVATE_KEY, [42])
    x = next(x for x in range(2, 100) if pow(x**3 + 5, (P - 1) // 2, P) == P - 1)
    assert not verify_signature(PublicKey(x=x, is_odd=False), [42], r, s)


def test_private_keys_out_of_range_are_refused() -> None:
    for bad in (0, Q, -1):
        with pytest.raises(ValueError, match="private key"):
            sign(bad, [1])
    with pytest.raises(ValueError, match="field elements"):
        sign(ISSUER_PRIVATE_KEY, [P])


def seed() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(vector("seed_auro_docs")["json"])
    return loaded


def with_change(path: list[str | int], value: Any) -> dict[str, Any]:
    document = seed()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "text",
        {},
        with_change(["version"], "v1"),
        with_change(["witness"], None),
        with_change(["witness", "type"], "imported"),
        with_change(
            ["witness", "issuer"], "B62qp6y93m7HztH5jvn12gHJphzAZrZq3daD792hi8a6WSivDS62M6y"
        ),
        with_change(["witness", "issuer", "value"], "B62qnot"),
        with_change(["witness", "issuer", "_type"], "Field"),
        with_change(["witness", "issuerSignature", "value"], []),
        with_change(["witness", "issuerSignature", "_type"], "PublicKey"),
        with_change(["witness", "issuerSignature", "value", "r"], 5),
        with_change(["witness", "issuerSignature", "value", "r"], "-5"),
        with_change(["witness", "issuerSignature", "value", "r"], str(P)),
        with_change(["witness", "issuerSignature", "value", "s"], str(Q)),
        with_change(["witness", "issuerSignature", "value", "s"], "1" * 500),
        with_change(["credential"], None),
        with_change(["credential", "owner"], {"_type": "PublicKey"}),
        with_change(["credential", "data"], []),
        with_change(["credential", "data", "name"], None),
        with_change(["credential", "data", "expiresAt", "value"], "1e3"),
    ],
)
def test_malformed_documents_are_false_not_errors(document: Any) -> None:
    assert verify_native_credential(document) is False


def test_struct_form_of_the_credential_verifies() -> None:
    document = seed()
    credential = document["credential"]
    document["credential"] = {
        "_type": "Struct",
        "properties": {
            "owner": {"_type": "PublicKey"},
            "data": {"nationality": {"_type": "String"}},
        },
        "value": credential,
    }
    assert verify_native_credential(document)
    document["credential"]["properties"] = {"owner": {"_type": "PublicKey"}}
    assert not verify_native_credential(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["_type", "value", "r", "s", "x"]), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            ["witness"],
            ["witness", "issuer"],
            ["witness", "issuerSignature"],
            ["witness", "issuerSignature", "value"],
            ["credential"],
            ["credential", "owner"],
            ["credential", "data"],
            ["credential", "data", "birthDate"],
            ["credential", "data", "id"],
        ]
    ),
    json_values,
)
def test_any_json_in_any_place_gives_false_not_an_error(path: list[str], value: Any) -> None:
    assert verify_native_credential(with_change(list(path), value)) is False


# --- properties of credentials signed here -------------------------------------

# "__proto__" is left out of the hash and "_type" makes data a typed value: neither is ordinary.
ordinary_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda key: key not in {"__proto__", "_type"}
)
field_values = st.integers(min_value=0, max_value=P - 1).map(
    lambda n: {"_type": "Field", "value": str(n)}
)
uint64_values = st.integers(min_value=0, max_value=2**64 - 1).map(
    lambda n: {"_type": "UInt64", "value": str(n)}
)
int64_values = st.integers(min_value=-(2**64) + 1, max_value=2**64 - 1).flatmap(
    lambda n: st.sampled_from(
        [
            {"_type": "Int64", "value": str(n)},
            {
                "_type": "Int64",
                "value": {"magnitude": str(abs(n)), "sgn": "Negative" if n < 0 else "Positive"},
            },
        ]
    )
)
bool_values = st.booleans().map(lambda b: {"_type": "Bool", "value": b})
bytes_values = st.binary(min_size=1, max_size=70).map(
    lambda b: {"_type": "Bytes", "size": len(b), "value": b.hex()}
)
data_values = st.one_of(
    st.text(max_size=40), field_values, uint64_values, int64_values, bool_values, bytes_values
)
credential_data = st.dictionaries(ordinary_keys, data_values, min_size=1, max_size=6)
private_keys = st.integers(min_value=1, max_value=Q - 1)


def changed(value: Any) -> Any:
    """A different value of the same type (one that hashes differently)."""
    if isinstance(value, str):
        return value + "x"
    changed_value = copy.deepcopy(value)
    kind, inner = value["_type"], value["value"]
    if kind == "Field":
        changed_value["value"] = str((int(inner) + 1) % P)
    elif kind == "UInt64":
        changed_value["value"] = str(int(inner) ^ 1)
    elif kind == "Bool":
        changed_value["value"] = not inner
    elif kind == "Bytes":
        raw = bytearray.fromhex(inner)
        raw[0] ^= 1
        changed_value["value"] = raw.hex()
    elif isinstance(inner, str):  # Int64 "-7": a different magnitude ("-0" equals "0")
        magnitude = int(inner.removeprefix("-"))
        new_magnitude = magnitude + 1 if magnitude < 2**64 - 1 else magnitude - 1
        changed_value["value"] = ("-" if inner.startswith("-") else "") + str(new_magnitude)
    else:  # Int64 {magnitude, sgn}: flip the sign (Negative 0 is 0, Positive 0 is 2^64)
        changed_value["value"]["sgn"] = "Negative" if inner["sgn"] == "Positive" else "Positive"
    return changed_value


@PROPERTY_SETTINGS
@given(private_keys, credential_data)
def test_signed_credentials_verify(private_key: int, data: dict[str, Any]) -> None:
    assert verify_native_credential(sign_native_credential(private_key, OWNER, data))


@PROPERTY_SETTINGS
@given(credential_data, st.data())
def test_changing_any_data_value_breaks_the_signature(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data)
    key = draw.draw(st.sampled_from(sorted(data)))
    document["credential"]["data"][key] = changed(data[key])
    assert not verify_native_credential(document)


@PROPERTY_SETTINGS
@given(credential_data)
def test_changing_owner_or_issuer_breaks_the_signature(data: dict[str, Any]) -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data)
    other_owner = copy.deepcopy(document)
    other_owner["credential"]["owner"]["value"] = OTHER_KEY
    assert not verify_native_credential(other_owner)
    other_issuer = copy.deepcopy(document)
    other_issuer["witness"]["issuer"]["value"] = OTHER_KEY
    assert not verify_native_credential(other_issuer)
    assert verify_native_credential(document)


@PROPERTY_SETTINGS
@given(credential_data, st.integers(min_value=1, max_value=2**64))
def test_changing_r_or_s_breaks_the_signature(data: dict[str, Any], delta: int) -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data)
    signature = document["witness"]["issuerSignature"]["value"]
    r, s = int(signature["r"]), int(signature["s"])
    for field, new_value in (("r", (r + delta) % P), ("s", (s + delta) % Q)):
        tampered = copy.deepcopy(document)
        tampered["witness"]["issuerSignature"]["value"][field] = str(new_value)
        assert not verify_native_credential(tampered)


@PROPERTY_SETTINGS
@given(credential_data.filter(lambda data: len(data) >= 2), st.data())
def test_reordering_ordinary_keys_breaks_the_signature(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data)
    keys = list(data)
    first = draw.draw(st.integers(min_value=0, max_value=len(keys) - 2))
    second = draw.draw(st.integers(min_value=first + 1, max_value=len(keys) - 1))
    keys[first], keys[second] = keys[second], keys[first]
    document["credential"]["data"] = {key: data[key] for key in keys}
    assert not verify_native_credential(document)


@PROPERTY_SETTINGS
@given(credential_data, st.permutations(["7", "10", "2"]), st.integers(min_value=0, max_value=6))
def test_integer_like_keys_may_sit_anywhere(
    data: dict[str, Any], index_keys: list[str], position: int
) -> None:
    """JavaScript enumerates "2", "7", "10" first whatever their place in the document."""
    with_index_keys = {**{key: f"value {key}" for key in index_keys}, **data}
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, with_index_keys)
    items = list(data.items())
    moved = dict(
        items[:position] + [(key, f"value {key}") for key in index_keys] + items[position:]
    )
    document["credential"]["data"] = moved
    assert verify_native_credential(document)


@PROPERTY_SETTINGS
@given(credential_data, json_values, json_values)
def test_metadata_is_not_signed(data: dict[str, Any], first: Any, second: Any) -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data, metadata=first)
    assert document["metadata"] == first
    document["metadata"] = second
    assert verify_native_credential(document)
    del document["metadata"]
    assert verify_native_credential(document)


def test_signed_credential_shape() -> None:
    document = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, {"name": "Alice"})
    assert list(document) == ["version", "witness", "credential"]
    issuer = encode_public_key(public_key_of(ISSUER_PRIVATE_KEY))
    assert document["witness"]["issuer"] == {"_type": "PublicKey", "value": issuer}
    signature = document["witness"]["issuerSignature"]
    assert signature["_type"] == "Signature"
    assert set(signature["value"]) == {"r", "s"}
    assert all(isinstance(part, str) for part in signature["value"].values())
    assert document["credential"] == {
        "owner": {"_type": "PublicKey", "value": OWNER},
        "data": {"name": "Alice"},
    }
    with_metadata = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, {"a": "b"}, metadata=None)
    assert list(with_metadata) == ["version", "witness", "metadata", "credential"]
