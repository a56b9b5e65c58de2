"""The credential model: what mina_storePrivateCredential accepts, and the stored form S."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import SEED_CREDENTIAL_PATH
from wallet_rpc.errors import InvalidParams
from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.keys import PublicKey, encode_public_key
from wallet_rpc.service.credential import ValidCredential, parse_store_params

TESTS = Path(__file__).resolve().parent
SEED = json.loads(SEED_CREDENTIAL_PATH.read_text(encoding="utf-8"))
VECTORS = {
    vector["name"]: vector
    for vector in json.loads(
        (TESTS / "vectors" / "native_credentials.json").read_text(encoding="utf-8")
    )["vectors"]
}
SAMPLES = {
    sample["name"]: sample
    for sample in json.loads(
        (TESTS / "data" / "mina_attestations_samples.json").read_text(encoding="utf-8")
    )["samples"]
}
LIMIT = 102400
ISSUER = SEED["witness"]["issuer"]["value"]
OWNER = SEED["credential"]["owner"]["value"]
REFUSED_VECTORS = {"t8_raw_number", "t9_nested_plain_object"}

Mutation = Callable[[dict[str, Any]], None]


def parse(credential: Any, limit: int = LIMIT) -> ValidCredential:
    return parse_store_params({"credential": credential}, max_credential_bytes=limit)


def refusal(credential: Any, limit: int = LIMIT) -> dict[str, str]:
    with pytest.raises(InvalidParams) as raised:
        parse(credential, limit)
    assert raised.value.code == 20003
    data: dict[str, str] = raised.value.data
    return data


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def holds_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(holds_float(inner) for inner in value.values())
    if isinstance(value, list):
        return any(holds_float(inner) for inner in value)
    return isinstance(value, float)


def stored_order(credential: dict[str, Any]) -> dict[str, Any]:
    """The credential with its top-level keys in S's order."""
    keys = ["version", "witness", "metadata", "credential"]
    return {key: credential[key] for key in keys if key in credential}


def seed() -> dict[str, Any]:
    return copy.deepcopy(SEED)


def mutated(mutation: Mutation, base: dict[str, Any] | None = None) -> dict[str, Any]:
    credential = copy.deepcopy(base if base is not None else SEED)
    mutation(credential)
    return credential


def data_of(credential: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = credential["credential"]["data"]
    return data


def set_data(key: str, value: Any) -> Mutation:
    return lambda credential: data_of(credential).__setitem__(key, value)


def off_curve_address() -> str:
    """A B62 address with a valid checksum whose x is not on the curve."""
    x = next(x for x in range(2, 100) if pow((x**3 + 5) % P, (P - 1) // 2, P) != 1)
    return encode_public_key(PublicKey(x=x, is_odd=False))


# --- accepted credentials --------------------------------------------------------------


def test_docs_example_is_stored_byte_for_byte_as_the_docs_write_it() -> None:
    valid = parse(seed())
    assert valid.stored_json == compact(SEED)
    assert valid.document == SEED
    assert list(valid.document) == ["version", "witness", "credential"]
    assert valid.owner == OWNER
    assert valid.issuer == ISSUER
    assert valid.witness_type == "native"
    assert valid.expires_at_ms == 1777182333186


def test_pallad_array_params_give_the_same_credential_as_auro_object_params() -> None:
    auro = parse_store_params({"credential": seed()}, max_credential_bytes=LIMIT)
    pallad = parse_store_params([seed()], max_credential_bytes=LIMIT)
    assert auro == pallad


@pytest.mark.parametrize("name", sorted(set(VECTORS) - REFUSED_VECTORS))
def test_every_well_formed_vector_is_accepted_for_storage(name: str) -> None:
    # Signature checks are not this module's: tampered vectors are well formed.
    credential = json.loads(VECTORS[name]["json"])
    valid = parse(credential)
    assert valid.stored_json == compact(stored_order(credential))
    assert json.loads(valid.stored_json) == credential
    assert compact(valid.document) == valid.stored_json


def test_metadata_sent_last_is_stored_before_the_credential() -> None:
    valid = parse(json.loads(VECTORS["t6_seed_plus_metadata"]["json"]))
    assert list(valid.document) == ["version", "witness", "metadata", "credential"]
    assert valid.stored_json.startswith('{"version":"v0","witness":')
    assert '"metadata":{"name":"anything","issuerName":"whatever"},"credential":' in (
        valid.stored_json
    )


def test_unsigned_credential_is_valid_for_storage() -> None:
    valid = parse(json.loads(VECTORS["unsigned_witness"]["json"]))
    assert valid.witness_type == "unsigned"
    assert valid.issuer is None
    assert valid.owner == "B62qiVGZQdBJJrxnzhvqp7LKe6jDiFcpU3cF5xHoZof5Pz9qiL85KLx"
    assert valid.expires_at_ms is None


@pytest.mark.parametrize("name", sorted(REFUSED_VECTORS))
def test_raw_numbers_and_plain_objects_in_data_are_refused(name: str) -> None:
    error = refusal(json.loads(VECTORS[name]["json"]))
    assert error == {
        "field": "credential.credential.data.extra",
        "reason": "must be a string or a serialized value (an object with _type)",
    }


@pytest.mark.parametrize("name", sorted(name for name in SAMPLES if SAMPLES[name]["valid"]))
def test_credentials_written_by_mina_attestations_are_accepted(name: str) -> None:
    text = SAMPLES[name]["json"]
    valid = parse_store_params([json.loads(text)], max_credential_bytes=1 << 20)
    assert valid.stored_json == text


def test_imported_credential_in_struct_form() -> None:
    valid = parse_store_params(
        [json.loads(SAMPLES["imported_proved"]["json"])], max_credential_bytes=1 << 20
    )
    assert valid.witness_type == "imported"
    assert valid.issuer is None
    assert valid.owner == "B62qoAQQuCJouBEiGFawnioyj5ALTKZBX6jkbKJUJHn6ZX5Utovqada"


def test_struct_with_a_string_property_is_refused_as_mina_attestations_refuses_it() -> None:
    error = refusal(json.loads(SAMPLES["struct_nested_string"]["json"]))
    assert error["field"] == "credential.credential.data.o.properties.inner.properties.label._type"
    assert error["reason"] == "unsupported type"


# --- key order: JavaScript's, as Auro Wallet keeps it ----------------------------------


def test_integer_like_keys_come_first_in_numeric_order_everywhere() -> None:
    credential = seed()
    data = {
        "b": "1",
        "10": "2",
        "2": "3",
        "a": "4",
        "4294967294": "5",
        "4294967295": "6",
        "01": "7",
        "-1": "8",
        "1.0": "9",
        "0": "10",
    }
    credential["credential"]["data"] = data
    credential["metadata"] = {"z": {"3": 1, "x": [{"9": 0, "y": 1, "1": 2}]}, "5": None}
    valid = parse(credential)

    document_data = valid.document["credential"]["data"]
    assert list(document_data) == [
        "0",
        "2",
        "10",
        "4294967294",
        "b",
        "a",
        "4294967295",
        "01",
        "-1",
        "1.0",
    ]
    assert document_data == data
    assert list(valid.document["metadata"]) == ["5", "z"]
    assert list(valid.document["metadata"]["z"]["x"][0]) == ["1", "9", "y"]
    assert valid.stored_json == compact(valid.document)
    # The input itself is left as it was.
    assert list(credential["credential"]["data"])[:2] == ["b", "10"]


def test_integer_like_keys_inside_a_struct_are_ordered_too() -> None:
    struct = {
        "_type": "Struct",
        "properties": {"b": {"_type": "Field"}, "7": {"_type": "Bool"}},
        "value": {"b": {"_type": "Field", "value": "1"}, "7": {"_type": "Bool", "value": False}},
    }
    valid = parse(mutated(set_data("s", struct)))
    stored = valid.document["credential"]["data"]["s"]
    assert list(stored["properties"]) == ["7", "b"]
    assert list(stored["value"]) == ["7", "b"]
    assert valid.stored_json == compact(valid.document)


# --- the duplicate key -----------------------------------------------------------------


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_dedup_key_ignores_key_order_and_metadata() -> None:
    first = parse(seed())
    reordered = parse(reversed_keys(seed()))
    with_metadata = parse(mutated(lambda c: c.__setitem__("metadata", {"note": "a"})))
    other_metadata = parse(mutated(lambda c: c.__setitem__("metadata", ["b", 2])))
    assert reordered.stored_json != first.stored_json
    assert with_metadata.stored_json != first.stored_json
    assert first.dedup_key == reordered.dedup_key == with_metadata.dedup_key
    assert first.dedup_key == other_metadata.dedup_key
    assert len(first.dedup_key) == 64
    assert int(first.dedup_key, 16) >= 0


@pytest.mark.parametrize(
    "mutation",
    [
        set_data("name", "zvCICy"),
        set_data("extra", "x"),
        lambda c: data_of(c).pop("name"),
        lambda c: c["witness"]["issuerSignature"]["value"].__setitem__("s", "1"),
        lambda c: c["credential"]["owner"].__setitem__("value", ISSUER),
    ],
    ids=["value", "added", "dropped", "signature", "owner"],
)
def test_dedup_key_differs_for_a_different_credential(mutation: Mutation) -> None:
    assert parse(mutated(mutation)).dedup_key != parse(seed()).dedup_key


# --- params and size -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"credential": json.dumps(SEED)}, {"field": "credential"}),
        ({"credential": 1}, {"field": "credential"}),
        ({"credential": None}, {"field": "credential"}),
        ({"credential": [SEED]}, {"field": "credential"}),
        ([json.dumps(SEED)], {"field": "credential"}),
        ({}, {"field": "credential", "reason": "missing"}),
        ({"credential": SEED, "origin": "x"}, {"field": "params"}),
        ([], {"field": "params"}),
        ([SEED, SEED], {"field": "params"}),
        (None, {"field": "params"}),
        ("credential", {"field": "params"}),
        (7, {"field": "params"}),
    ],
)
def test_params_must_carry_one_credential_object(params: Any, expected: dict[str, str]) -> None:
    with pytest.raises(InvalidParams) as raised:
        parse_store_params(params, max_credential_bytes=LIMIT)
    assert raised.value.data.items() >= expected.items()


def test_a_json_string_credential_is_refused_as_in_auro() -> None:
    with pytest.raises(InvalidParams) as raised:
        parse_store_params({"credential": compact(SEED)}, max_credential_bytes=LIMIT)
    assert raised.value.data == {
        "field": "credential",
        "reason": "must be an object, not a JSON string",
    }


def test_size_limit_counts_utf8_bytes_of_the_stored_json() -> None:
    credential = mutated(lambda c: c.__setitem__("metadata", {"name": "日本語の資格"}))
    size = len(compact(stored_order(credential)).encode("utf-8"))
    assert parse(credential, limit=size).stored_json.encode("utf-8").__len__() == size
    error = refusal(credential, limit=size - 1)
    assert error == {"field": "credential", "reason": f"larger than {size - 1} bytes"}


# --- refusals, each naming its field ---------------------------------------------------

P_DECIMAL = str(P)
Q_DECIMAL = str(Q)


def set_at(*path: str | int, value: Any) -> Mutation:
    def mutation(credential: dict[str, Any]) -> None:
        node: Any = credential
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutation


def drop_at(*path: str | int) -> Mutation:
    def mutation(credential: dict[str, Any]) -> None:
        node: Any = credential
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return mutation


def swap_last_char(address: str) -> str:
    return address[:-1] + ("2" if address[-1] != "2" else "3")


SIGNATURE = ("witness", "issuerSignature", "value")
DATA = ("credential", "data")

REFUSALS: list[tuple[str, Mutation, str, str]] = [
    ("version", set_at("version", value="v1"), "credential.version", "must be 'v0'"),
    ("no version", drop_at("version"), "credential.version", "missing"),
    ("top-level key", set_at("extra", value=1), "credential.extra", "unknown key"),
    ("witness type", set_at("witness", "type", value="x"), "credential.witness.type", "must be"),
    ("no witness type", drop_at("witness", "type"), "credential.witness.type", "missing"),
    ("witness key", set_at("witness", "x", value=1), "credential.witness.x", "unknown key"),
    (
        "unsigned with issuer",
        set_at("witness", "type", value="unsigned"),
        "credential.witness.issuer",
        "unknown key",
    ),
    (
        "no signature",
        drop_at("witness", "issuerSignature"),
        "credential.witness.issuerSignature",
        "missing",
    ),
    (
        "issuer checksum",
        set_at("witness", "issuer", "value", value=swap_last_char(ISSUER)),
        "credential.witness.issuer.value",
        "bad checksum",
    ),
    (
        "issuer not base58",
        set_at("witness", "issuer", "value", value="0" + ISSUER[1:]),
        "credential.witness.issuer.value",
        "not base58",
    ),
    (
        "issuer off curve",
        set_at("witness", "issuer", "value", value=off_curve_address()),
        "credential.witness.issuer.value",
        "not on the curve",
    ),
    (
        "issuer key extra",
        set_at("witness", "issuer", "x", value="1"),
        "credential.witness.issuer.x",
        "unknown key",
    ),
    (
        "signature value extra",
        set_at(*SIGNATURE, "t", value="1"),
        "credential.witness.issuerSignature.value.t",
        "unknown key",
    ),
    (
        "r = p",
        set_at(*SIGNATURE, "r", value=P_DECIMAL),
        "credential.witness.issuerSignature.value.r",
        "out of range",
    ),
    (
        "s = q",
        set_at(*SIGNATURE, "s", value=Q_DECIMAL),
        "credential.witness.issuerSignature.value.s",
        "out of range",
    ),
    (
        "r leading zero",
        set_at(*SIGNATURE, "r", value="0123"),
        "credential.witness.issuerSignature.value.r",
        "canonical",
    ),
    (
        "r number",
        set_at(*SIGNATURE, "r", value=123),
        "credential.witness.issuerSignature.value.r",
        "must be a string",
    ),
    ("credential key", set_at("credential", "x", value=1), "credential.credential.x", "unknown"),
    ("no owner", drop_at("credential", "owner"), "credential.credential.owner", "missing"),
    ("no data", drop_at("credential", "data"), "credential.credential.data", "missing"),
    ("data array", set_at(*DATA, value=[]), "credential.credential.data", "must be an object"),
    (
        "owner short",
        set_at("credential", "owner", "value", value=OWNER[:-1]),
        "credential.credential.owner.value",
        "55 characters",
    ),
    (
        "owner type",
        set_at("credential", "owner", "_type", value="Field"),
        "credential.credential.owner._type",
        "must be 'PublicKey'",
    ),
]


def data_refusal(
    name: str, value: Any, field: str = "credential.credential.data.x", reason: str = ""
) -> tuple[str, Mutation, str, str]:
    return (name, set_data("x", value), field, reason)


X = "credential.credential.data.x"
NOT_A_VALUE = "must be a string or a serialized value"
REFUSALS += [
    data_refusal("number", 5, X, NOT_A_VALUE),
    data_refusal("float", 1.5, X, NOT_A_VALUE),
    data_refusal("true", True, X, NOT_A_VALUE),
    data_refusal("null", None, X, NOT_A_VALUE),
    data_refusal("array", ["a"], X, NOT_A_VALUE),
    data_refusal("plain object", {"a": "b"}, X, NOT_A_VALUE),
    data_refusal("unknown type", {"_type": "Foo", "value": "1"}, X + "._type", "unsupported"),
    data_refusal("String type", {"_type": "String", "value": "1"}, X + "._type", "unsupported"),
    data_refusal("Array type", {"_type": "Array", "value": []}, X + "._type", "unsupported"),
    data_refusal("type not string", {"_type": ["Field"], "value": "1"}, X + "._type", "string"),
    data_refusal("value extra", {"_type": "Field", "value": "1", "v": 1}, X + ".v", "unknown key"),
    data_refusal("no value", {"_type": "Field"}, X + ".value", "missing"),
    data_refusal("field = p", {"_type": "Field", "value": P_DECIMAL}, X + ".value", "range"),
    data_refusal("field hex", {"_type": "Field", "value": "0x10"}, X + ".value", "canonical"),
    data_refusal("field negative", {"_type": "Field", "value": "-1"}, X + ".value", "canonical"),
    data_refusal("field space", {"_type": "Field", "value": " 1"}, X + ".value", "canonical"),
    data_refusal("field empty", {"_type": "Field", "value": ""}, X + ".value", "canonical"),
    data_refusal("field unicode digit", {"_type": "Field", "value": "٣"}, X + ".value", "canon"),
    data_refusal("field underscore", {"_type": "Field", "value": "1_0"}, X + ".value", "canon"),
    data_refusal("field huge", {"_type": "Field", "value": "9" * 100_000}, X + ".value", "range"),
    data_refusal("uint8", {"_type": "UInt8", "value": "256"}, X + ".value", "out of range"),
    data_refusal("uint8 number", {"_type": "UInt8", "value": 5}, X + ".value", "string"),
    data_refusal("uint32", {"_type": "UInt32", "value": str(2**32)}, X + ".value", "range"),
    data_refusal("uint64", {"_type": "UInt64", "value": str(2**64)}, X + ".value", "range"),
    data_refusal("bool string", {"_type": "Bool", "value": "true"}, X + ".value", "boolean"),
    data_refusal("bool number", {"_type": "Bool", "value": 1}, X + ".value", "boolean"),
    data_refusal("int64 -0", {"_type": "Int64", "value": "-0"}, X + ".value", "zero"),
    data_refusal("int64 +5", {"_type": "Int64", "value": "+5"}, X + ".value", "canonical"),
    data_refusal("int64 minus", {"_type": "Int64", "value": "-"}, X + ".value", "canonical"),
    data_refusal("int64 --5", {"_type": "Int64", "value": "--5"}, X + ".value", "canonical"),
    data_refusal("int64 -05", {"_type": "Int64", "value": "-05"}, X + ".value", "canonical"),
    data_refusal("int64 big", {"_type": "Int64", "value": str(-(2**64))}, X + ".value", "range"),
    data_refusal("int64 number", {"_type": "Int64", "value": -5}, X + ".value", "signed"),
    data_refusal(
        "int64 magnitude",
        {"_type": "Int64", "value": {"magnitude": str(2**64), "sgn": "Positive"}},
        X + ".value.magnitude",
        "range",
    ),
    data_refusal(
        "int64 sign",
        {"_type": "Int64", "value": {"magnitude": "1", "sgn": "positive"}},
        X + ".value.sgn",
        "'Positive' or 'Negative'",
    ),
    data_refusal(
        "int64 parts extra",
        {"_type": "Int64", "value": {"magnitude": "1", "sgn": "Positive", "x": 1}},
        X + ".value.x",
        "unknown key",
    ),
    data_refusal("bytes size", {"_type": "Bytes", "size": 2, "value": "aa"}, X + ".value", "size"),
    data_refusal("bytes odd", {"_type": "Bytes", "size": 1, "value": "aaa"}, X + ".value", "hex"),
    data_refusal("bytes hex", {"_type": "Bytes", "size": 1, "value": "zz"}, X + ".value", "hex"),
    data_refusal("bytes 0x", {"_type": "Bytes", "size": 2, "value": "0xaa"}, X + ".value", "hex"),
    data_refusal("bytes -1", {"_type": "Bytes", "size": -1, "value": ""}, X + ".size", "range"),
    data_refusal("bytes str", {"_type": "Bytes", "size": "1", "value": "aa"}, X + ".size", "int"),
    data_refusal("bytes float", {"_type": "Bytes", "size": 1.0, "value": "aa"}, X + ".size", "int"),
    data_refusal("bytes bool", {"_type": "Bytes", "size": True, "value": "aa"}, X + ".size", "int"),
    data_refusal(
        "dynamic string too long",
        {"_type": "DynamicString", "maxLength": 5, "value": "héllo", "_isFactory": True},
        X + ".value",
        "maxLength",
    ),
    data_refusal(
        "dynamic maxLength",
        {"_type": "DynamicString", "maxLength": 65536, "value": "", "_isFactory": True},
        X + ".maxLength",
        "range",
    ),
    data_refusal(
        "no _isFactory",
        {"_type": "DynamicString", "maxLength": 5, "value": "a"},
        X + "._isFactory",
        "missing",
    ),
    data_refusal(
        "_isFactory 1",
        {"_type": "DynamicString", "maxLength": 5, "value": "a", "_isFactory": 1},
        X + "._isFactory",
        "must be true",
    ),
    data_refusal(
        "dynamic bytes too long",
        {"_type": "DynamicBytes", "maxLength": 1, "value": "aabb", "_isFactory": True},
        X + ".value",
        "maxLength",
    ),
    data_refusal(
        "dynamic bytes under maxLength",
        {"_type": "DynamicBytes", "maxLength": 4, "value": "0a", "_isFactory": True},
        X + ".value",
        "maxLength",
    ),
    data_refusal(
        "dynamic bytes not hex",
        {"_type": "DynamicBytes", "maxLength": 4, "value": "xyz0", "_isFactory": True},
        X + ".value",
        "hex",
    ),
    data_refusal(
        "signature in data",
        {"_type": "Signature", "value": {"r": "1", "s": Q_DECIMAL}},
        X + ".value.s",
        "range",
    ),
]


def struct(properties: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    return {"_type": "Struct", "properties": properties, "value": value}


FIELD_TYPE = {"_type": "Field"}
FIELD_ONE = {"_type": "Field", "value": "1"}
REFUSALS += [
    data_refusal(
        "struct value type",
        struct({"a": FIELD_TYPE}, {"a": {"_type": "UInt8", "value": "1"}}),
        X + ".value.a",
        "does not match",
    ),
    data_refusal("struct missing", struct({"a": FIELD_TYPE}, {}), X + ".value.a", "missing"),
    data_refusal("struct extra", struct({}, {"a": FIELD_ONE}), X + ".value.a", "not in"),
    data_refusal(
        "struct string member", struct({"a": FIELD_TYPE}, {"a": "1"}), X + ".value.a", "serialized"
    ),
    data_refusal(
        "struct bad type",
        struct({"a": {"_type": "Field", "x": 1}}, {"a": FIELD_ONE}),
        X + ".properties.a.x",
        "unknown key",
    ),
    data_refusal(
        "struct type not string",
        struct({"a": {"_type": 1}}, {"a": FIELD_ONE}),
        X + ".properties.a._type",
        "must be a string",
    ),
    data_refusal(
        "struct bytes size",
        struct(
            {"a": {"_type": "Bytes", "size": 2}},
            {"a": {"_type": "Bytes", "size": 1, "value": "aa"}},
        ),
        X + ".value.a",
        "does not match",
    ),
    data_refusal(
        "struct nested record",
        struct({"a": {"b": FIELD_TYPE}}, {"a": {"b": {"_type": "UInt8", "value": "1"}}}),
        X + ".value.a",
        "does not match",
    ),
    data_refusal(
        "struct member value",
        struct({"a": FIELD_TYPE}, {"a": {"_type": "Field", "value": P_DECIMAL}}),
        X + ".value.a.value",
        "range",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "field", "reason"),
    [pytest.param(mutation, field, reason, id=name) for name, mutation, field, reason in REFUSALS],
)
def test_refusals_name_the_field_and_the_reason(
    mutation: Mutation, field: str, reason: str
) -> None:
    error = refusal(mutated(mutation))
    assert set(error) == {"field", "reason"}
    assert error["field"] == field
    assert reason in error["reason"]


ACCEPTED: list[tuple[str, Any]] = [
    ("field p - 1", {"_type": "Field", "value": str(P - 1)}),
    ("field 0", {"_type": "Field", "value": "0"}),
    ("uint8 max", {"_type": "UInt8", "value": "255"}),
    ("uint32 max", {"_type": "UInt32", "value": str(2**32 - 1)}),
    ("uint64 max", {"_type": "UInt64", "value": str(2**64 - 1)}),
    ("int64 min", {"_type": "Int64", "value": str(1 - 2**64)}),
    ("int64 zero", {"_type": "Int64", "value": "0"}),
    (
        "int64 negative zero parts",
        {"_type": "Int64", "value": {"sgn": "Negative", "magnitude": "0"}},
    ),
    ("bool false", {"_type": "Bool", "value": False}),
    ("bytes upper hex", {"_type": "Bytes", "size": 2, "value": "AbCd"}),
    ("bytes empty", {"_type": "Bytes", "size": 0, "value": ""}),
    (
        "dynamic string at maxLength",
        {"_type": "DynamicString", "maxLength": 6, "value": "héllo", "_isFactory": True},
    ),
    (
        "dynamic bytes at maxLength",
        {"_type": "DynamicBytes", "maxLength": 1, "value": "0a", "_isFactory": True},
    ),
    ("signature s between p and q", {"_type": "Signature", "value": {"r": "0", "s": P_DECIMAL}}),
    ("public key", {"_type": "PublicKey", "value": ISSUER}),
    ("empty string", ""),
    ("unicode string", "héllo ✓ 日本語 \U0001f600"),
    ("struct", struct({"a": FIELD_TYPE}, {"a": FIELD_ONE})),
    (
        "struct in struct",
        struct(
            {"s": {"_type": "Struct", "properties": {"a": FIELD_TYPE}}},
            {"s": struct({"a": FIELD_TYPE}, {"a": FIELD_ONE})},
        ),
    ),
]


@pytest.mark.parametrize("value", [pytest.param(value, id=name) for name, value in ACCEPTED])
def test_values_at_the_edges_of_their_range_are_accepted(value: Any) -> None:
    valid = parse(mutated(set_data("x", value)))
    assert valid.document["credential"]["data"]["x"] == value


def test_expires_at_is_read_only_from_a_uint64() -> None:
    assert parse(mutated(set_data("expiresAt", "soon"))).expires_at_ms is None
    as_field = {"_type": "Field", "value": "1777182333186"}
    assert parse(mutated(set_data("expiresAt", as_field))).expires_at_ms is None


# --- free-form metadata, unicode, nesting ------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "field", "reason"),
    [
        ({"a": float("nan")}, "credential.metadata.a", "finite"),
        ([float("inf")], "credential.metadata[0]", "finite"),
        ({"a": [1, -float("inf")]}, "credential.metadata.a[1]", "finite"),
        (10**400, "credential.metadata", "out of range"),
        (("a",), "credential.metadata", "not a JSON value"),
        ({"a": {1: "b"}}, "credential.metadata.a", "keys must be strings"),
        ({"a": b"x"}, "credential.metadata.a", "not a JSON value"),
    ],
)
def test_metadata_must_be_plain_json(metadata: Any, field: str, reason: str) -> None:
    error = refusal(mutated(lambda c: c.__setitem__("metadata", metadata)))
    assert error["field"] == field
    assert reason in error["reason"]


@pytest.mark.parametrize(
    "metadata", [None, 0, -1.5e300, 2**1000, "", [], {}, {"a": [True, None, {"b": 1.25}]}]
)
def test_metadata_may_be_any_json(metadata: Any) -> None:
    valid = parse(mutated(lambda c: c.__setitem__("metadata", metadata)))
    assert valid.document["metadata"] == metadata
    assert json.loads(valid.stored_json)["metadata"] == metadata


def test_integral_numbers_in_metadata_are_written_as_javascript_writes_them() -> None:
    metadata = {"a": 1.0, "b": [-0.0, 2.5, 1e300, 9007199254740991.0], "c": 3}
    valid = parse(mutated(lambda c: c.__setitem__("metadata", metadata)))
    assert '"metadata":{"a":1,"b":[0,2.5,1e+300,9007199254740991],"c":3}' in valid.stored_json
    assert parse(mutated(lambda c: c.__setitem__("metadata", {"a": 1}))).dedup_key == (
        valid.dedup_key
    )


def nested_lists(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def nested_objects(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_metadata_nesting_is_bounded() -> None:
    parse(mutated(lambda c: c.__setitem__("metadata", nested_objects(60))))
    for deep in (nested_lists(100_000), nested_objects(100_000)):
        credential = seed()
        credential["metadata"] = deep
        error = refusal(credential)
        assert error["reason"] == "nested too deeply"
        assert len(error["field"]) < 210


def test_deeply_nested_structs_are_refused_without_recursing() -> None:
    value: Any = FIELD_ONE
    declared: Any = FIELD_TYPE
    for _ in range(5_000):
        value = struct({"a": declared}, {"a": value})
        declared = {"_type": "Struct", "properties": {"a": declared}}
    error = refusal(mutated(set_data("x", value)))
    assert error == {"field": X, "reason": "nested too deeply"}


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        (set_data("x", "a\udc80b"), X),
        (set_data("\ud800", "v"), "credential.credential.data.\\ud800"),
        (lambda c: c.__setitem__("metadata", {"k": ["ok", "\udfff"]}), "credential.metadata.k[1]"),
        (lambda c: c.__setitem__("metadata", {"\udc00": 1}), "credential.metadata.\\udc00"),
        (
            set_data(
                "x",
                {"_type": "DynamicString", "maxLength": 9, "value": "\ud83d", "_isFactory": True},
            ),
            X + ".value",
        ),
    ],
)
def test_lone_surrogates_are_refused_where_they_are(mutation: Mutation, field: str) -> None:
    error = refusal(mutated(mutation))
    assert error == {"field": field, "reason": "not valid Unicode (lone surrogate)"}


def test_non_ascii_is_kept_as_is_in_the_stored_json() -> None:
    valid = parse(mutated(set_data("motto", "héllo ✓ \U0001f600")))
    assert '"motto":"héllo ✓ \U0001f600"' in valid.stored_json


def test_errors_never_echo_the_input() -> None:
    secret = "SECRET" + "x" * 5000
    for mutation in (
        set_data("x", {"_type": "Field", "value": secret}),
        set_data(secret, 5),
        set_at("witness", "issuer", "value", value=secret),
        lambda c: c.__setitem__("metadata", {secret: float("nan")}),
    ):
        error = refusal(mutated(mutation))
        assert "x" * 100 not in json.dumps(error)
        assert len(error["field"]) <= 210
        assert len(error["reason"]) < 100


# --- imported credentials --------------------------------------------------------------

IMPORTED = json.loads(SAMPLES["imported_proved"]["json"])
PROOF = ("witness", "proof")
VK = ("witness", "vk")
BIG = 1 << 20


def test_imported_verification_key_in_its_typed_form_is_accepted() -> None:
    plain = IMPORTED["witness"]["vk"]
    typed = {
        "_type": "VerificationKey",
        "value": {"data": plain["data"], "hash": plain["hash"]["value"]},
    }
    valid = parse(mutated(set_at(*VK, value=typed), IMPORTED), limit=BIG)
    assert valid.document["witness"]["vk"] == typed


@pytest.mark.parametrize(
    ("mutation", "field", "reason"),
    [
        (set_at(*VK, "x", value=1), "credential.witness.vk.x", "unknown key"),
        (set_at(*VK, "data", value="not base64!"), "credential.witness.vk.data", "base64"),
        (
            set_at(*VK, "hash", "value", value=P_DECIMAL),
            "credential.witness.vk.hash.value",
            "range",
        ),
        (set_at(*PROOF, "x", value=1), "credential.witness.proof.x", "unknown key"),
        (
            set_at(*PROOF, "value", "maxProofsVerified", value=3),
            "credential.witness.proof.value.maxProofsVerified",
            "range",
        ),
        (
            set_at(*PROOF, "value", "publicOutput", 1, value="01"),
            "credential.witness.proof.value.publicOutput[1]",
            "canonical",
        ),
        (
            set_at(*PROOF, "value", "proof", value="a"),
            "credential.witness.proof.value.proof",
            "base64",
        ),
        (
            drop_at(*PROOF, "proof", "featureFlags", "xor"),
            "credential.witness.proof.proof.featureFlags.xor",
            "missing",
        ),
        (
            set_at(*PROOF, "proof", "featureFlags", "xor", value=1),
            "credential.witness.proof.proof.featureFlags.xor",
            "boolean or null",
        ),
        (
            set_at(*PROOF, "proof", "publicInput", value={"_type": "Nope"}),
            "credential.witness.proof.proof.publicInput._type",
            "unsupported",
        ),
        (
            set_at(*PROOF, "proof", "publicOutput", "properties", "owner", "x", value=1),
            "credential.witness.proof.proof.publicOutput.properties.owner.x",
            "unknown key",
        ),
        (
            set_at("credential", "value", "data", "age", value={"_type": "UInt8", "value": "1"}),
            "credential.credential.value.data.age",
            "does not match",
        ),
        (
            set_at("credential", "properties", "x", value={}),
            "credential.credential.properties.x",
            "unknown key",
        ),
        (
            set_at("credential", "value", "owner", "value", value=swap_last_char(OWNER)),
            "credential.credential.value.owner.value",
            "checksum",
        ),
        (
            set_at("credential", "value", "data", "age", value=5),
            "credential.credential.value.data.age",
            NOT_A_VALUE,
        ),
        (
            set_at("credential", "properties", "data", "age", value={"b": FIELD_TYPE}),
            "credential.credential.properties.data.age",
            "_type",
        ),
    ],
)
def test_imported_witness_and_struct_credential_are_checked(
    mutation: Mutation, field: str, reason: str
) -> None:
    error = refusal(mutated(mutation, IMPORTED), limit=BIG)
    assert error["field"] == field
    assert reason in error["reason"]


def test_proof_types_may_use_the_whole_o1js_type_grammar() -> None:
    public_input = {
        "arr": {"_type": "Array", "inner": {"_type": "Field"}, "size": 3},
        "const": {"_type": "Constant", "value": {"10": [1.5, None], "2": "x"}},
        "dyn": {
            "_type": "DynamicArray",
            "maxLength": 4,
            "innerType": {"_type": "UInt8"},
            "_isFactory": True,
        },
        "rec": {
            "_type": "DynamicRecord",
            "maxEntries": 2,
            "knownShape": {"a": {"_type": "Bool"}},
            "_isFactory": True,
        },
        "nested": {"r": {"_type": "Bytes", "size": 20}, "s": {"_type": "Undefined"}},
    }
    mutation = set_at(*PROOF, "proof", "publicInput", value={"_type": "Struct", "properties": {}})
    credential = mutated(mutation, IMPORTED)
    credential["witness"]["proof"]["proof"]["publicInput"]["properties"] = public_input
    valid = parse(credential, limit=BIG)
    stored_input = valid.document["witness"]["proof"]["proof"]["publicInput"]["properties"]
    assert list(stored_input["const"]["value"]) == ["2", "10"]


def test_numbers_anywhere_in_s_are_javascripts() -> None:
    constant = {"_type": "Constant", "value": [1e-7, 12345678901234567890, 1.0]}
    mutation = set_at(*PROOF, "proof", "publicInput", value={"_type": "Struct", "properties": {}})
    credential = mutated(mutation, IMPORTED)
    credential["witness"]["proof"]["proof"]["publicInput"]["properties"] = {"c": constant}
    credential["metadata"] = {"m": [0.00001, -0.0]}
    stored = parse(credential, limit=BIG).stored_json
    assert '"value":[1e-7,12345678901234567000,1]' in stored
    assert '"metadata":{"m":[0.00001,0]}' in stored


# --- properties: whatever the input, a ValidCredential or an InvalidParams --------------


class _UnexpectedFailures(logging.Handler):
    """Errors the module logs: only a defect in it would log one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


UNEXPECTED_FAILURES = _UnexpectedFailures()


@pytest.fixture(scope="module", autouse=True)
def _watch_for_unexpected_failures() -> Iterator[None]:
    logger = logging.getLogger("wallet_rpc.service.credential")
    logger.addHandler(UNEXPECTED_FAILURES)
    yield
    logger.removeHandler(UNEXPECTED_FAILURES)


def check_outcome(params: Any, limit: int = LIMIT) -> ValidCredential | None:
    """Parse params: a ValidCredential true to its own S, or an InvalidParams fit to send."""
    outcome: ValidCredential | InvalidParams
    try:
        outcome = parse_store_params(params, max_credential_bytes=limit)
    except InvalidParams as error:
        outcome = error
    assert not UNEXPECTED_FAILURES.records, "validation failed with an unexpected exception"
    if isinstance(outcome, InvalidParams):
        assert outcome.code == 20003
        assert isinstance(outcome.data, dict)
        assert set(outcome.data) == {"field", "reason"}
        assert all(isinstance(text, str) for text in outcome.data.values())
        # The error itself must be sendable as JSON.
        json.dumps(outcome.data, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return None
    valid = outcome
    encoded = valid.stored_json.encode("utf-8")
    assert len(encoded) <= limit
    assert json.loads(valid.stored_json) == valid.document
    # S is the document in its key order; its doubles are JavaScript's text
    # (tests/test_js_numbers.py), which Python's json may write otherwise.
    assert compact(json.loads(valid.stored_json)) == compact(valid.document)
    if not holds_float(valid.document):
        assert compact(valid.document) == valid.stored_json
    assert valid.witness_type in ("native", "imported", "unsigned")
    again = parse_store_params([json.loads(valid.stored_json)], max_credential_bytes=limit)
    assert again.stored_json == valid.stored_json
    assert again.dedup_key == valid.dedup_key
    return valid


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


BASES = [
    SEED,
    json.loads(VECTORS["v2_ints_bytes"]["json"]),
    json.loads(VECTORS["v3_pubkey_struct_unicode"]["json"]),
    json.loads(SAMPLES["struct_nested_record"]["json"]),
    json.loads(SAMPLES["dyn_string_bytes"]["json"]),
]
BASE_PATHS = [list(paths(base)) for base in BASES]

surrogates = st.lists(st.integers(0xD800, 0xDFFF).map(chr), min_size=1, max_size=3).map("".join)
texts = st.one_of(
    st.text(max_size=20),
    surrogates,
    st.text(max_size=5).flatmap(lambda t: surrogates.map(lambda s: t + s)),
    st.sampled_from(["", "0", "-0", "01", "+1", "1e3", " 1", "٣", "B62", "v0", "Struct", "_type"]),
    st.integers(0, 300_000).map(lambda n: "x" * n),
)
numbers = st.one_of(
    st.integers(),
    st.integers(0, 600).map(lambda bits: 2**bits),
    st.integers(-(2**64), 2**256),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([10**400, -(10**400), P, Q, 2**64, 2**32]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def decimal_edge(text: str, draw: st.DrawFn) -> str:
    number = int(text) if text.isdigit() else 0
    return draw(
        st.sampled_from(
            [
                str(number + 1),
                str(number * 2**64),
                "0" + text,
                "-" + text,
                text + "0" * 80,
                str(P),
                str(Q),
                str(P - 1),
                str(2**64),
                str(2**64 - 1),
            ]
        )
    )


@st.composite
def mutation_of(draw: st.DrawFn, node: Any) -> Any:
    """A replacement for node: a nearby wrong value or any JSON."""
    options: list[str] = ["any", "deep"]
    if isinstance(node, str):
        options += ["text", "base58"] + (["decimal"] * 3 if node.isdigit() else [])
    if isinstance(node, int) and not isinstance(node, bool):
        options += ["plus_minus"]
    if isinstance(node, dict):
        options += ["drop", "add", "rename", "add_valid", "add_valid"]
    choice = draw(st.sampled_from(options))
    if choice == "text":
        return draw(texts)
    if choice == "base58" and node:
        index = draw(st.integers(0, len(node) - 1))
        return node[:index] + draw(st.sampled_from("0OIl1zZ2")) + node[index + 1 :]
    if choice == "decimal":
        return decimal_edge(node, draw)
    if choice == "plus_minus":
        return node + draw(st.sampled_from([-1, 1, 2**64, -(2**64)]))
    if choice == "deep":
        depth = draw(st.integers(1, 200))
        return nested_lists(depth) if draw(st.booleans()) else nested_objects(depth)
    if isinstance(node, dict) and node and choice in ("drop", "rename"):
        key = draw(st.sampled_from(sorted(node)))
        changed = {k: v for k, v in node.items() if k != key}
        if choice == "rename":
            changed[draw(texts)] = node[key]
        return changed
    if isinstance(node, dict) and choice == "add_valid":
        key = draw(st.one_of(texts, st.integers(0, 2**32).map(str)))
        return {**node, key: copy.deepcopy(draw(st.sampled_from(ACCEPTED))[1])}
    if isinstance(node, dict) and choice == "add":
        key = draw(st.one_of(texts, st.sampled_from(["_type", "value", "x", "10", "2"])))
        return {**node, key: draw(json_values)}
    return draw(json_values)


def replace_at(root: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    node = root
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return root


@st.composite
def mutated_credentials(draw: st.DrawFn) -> Any:
    index = draw(st.integers(0, len(BASES) - 1))
    credential: Any = copy.deepcopy(BASES[index])
    if draw(st.booleans()):
        credential["metadata"] = draw(json_values)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(BASE_PATHS[index]))
        try:
            node = credential
            for part in path:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this part
        credential = replace_at(credential, path, draw(mutation_of(node)))
    return credential


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(credential=mutated_credentials(), pallad=st.booleans())
def test_mutated_credentials_are_either_valid_or_invalid_params(
    credential: Any, pallad: bool
) -> None:
    check_outcome([credential] if pallad else {"credential": credential})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=json_values)
def test_any_json_params_are_either_valid_or_invalid_params(params: Any) -> None:
    check_outcome(params)
    check_outcome({"credential": params})
    check_outcome([params])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(
        st.text(max_size=8) | st.integers(0, 2**33).map(str),
        st.text(max_size=8) | st.just({"_type": "Field", "value": "1"}),
        max_size=8,
    ),
    metadata=json_values,
)
def test_any_data_keys_and_metadata_keep_one_dedup_key(data: dict[str, Any], metadata: Any) -> None:
    credential = seed()
    credential["credential"]["data"] = data
    plain = check_outcome({"credential": credential})
    credential["metadata"] = metadata
    with_metadata = check_outcome({"credential": reversed_keys(credential)})
    if plain is not None and with_metadata is not None:
        assert plain.dedup_key == with_metadata.dedup_key
        stored_data = with_metadata.document["credential"]["data"]
        assert stored_data == plain.document["credential"]["data"]
        index_keys = [
            key for key in stored_data if key.isascii() and key.isdigit() and int(key) < 2**32 - 1
        ]
        index_keys = [key for key in index_keys if key == str(int(key))]
        assert list(stored_data)[: len(index_keys)] == sorted(index_keys, key=int)
