"""A credential as the person deciding reads it: o1js values shown as what they mean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import seed_credential
from wallet_rpc.service.presentation import (
    ValueView,
    describe_credential,
    describe_credential_json,
    describe_value,
)

OWNER = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
ISSUER = "B62qp6y93m7HztH5jvn12gHJphzAZrZq3daD792hi8a6WSivDS62M6y"


def test_the_seed_credential_reads_as_owner_issuer_and_values() -> None:
    view = describe_credential(seed_credential())

    assert view.owner == OWNER
    assert view.issuer == ISSUER
    assert view.witness == "native: signed by its issuer"
    assert view.metadata is None
    assert [(value.name, value.type_name, value.text, value.note) for value in view.data] == [
        ("nationality", "String", "KR", None),
        ("name", "String", "zvCICx", None),
        ("birthDate", "Int64", "-215913411073", "1963-02-28 00:03:08 UTC"),
        ("id", "Bytes", "2a4dc0212e4c68fff1ae6ffbb2c194fb", "16 bytes"),
        ("expiresAt", "UInt64", "1777182333186", "2026-04-26 05:45:33 UTC"),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param({"magnitude": "7", "sgn": "Negative"}, "-7", id="0.4-negative"),
        pytest.param({"magnitude": "7", "sgn": "Positive"}, "7", id="0.4-positive"),
        pytest.param({"magnitude": "0", "sgn": "Negative"}, "0", id="0.4-negative-zero"),
        pytest.param("-18446744073709551615", "-18446744073709551615", id="0.5-min"),
        pytest.param("42", "42", id="0.5-positive"),
    ],
)
def test_int64_is_a_signed_number_in_both_forms(value: Any, text: str) -> None:
    shown = describe_value("score", {"_type": "Int64", "value": value})

    assert (shown.type_name, shown.text, shown.note) == ("Int64", text, None)


@pytest.mark.parametrize(
    ("name", "dated"),
    [
        ("expiresAt", True),
        ("issued_at", True),
        ("birthDate", True),
        ("validUntil", True),
        ("timestamp", True),
        ("nationality", False),
        ("age", False),
        ("count", False),
    ],
)
def test_a_uint64_is_a_date_only_where_its_name_says_so(name: str, dated: bool) -> None:
    shown = describe_value(name, {"_type": "UInt64", "value": "1700000000000"})

    assert shown.text == "1700000000000"
    assert shown.note == ("2023-11-14 22:13:20 UTC" if dated else None)


def test_a_number_beyond_any_date_is_shown_without_one() -> None:
    shown = describe_value("expiresAt", {"_type": "UInt64", "value": "18446744073709551615"})

    assert shown.text == "18446744073709551615"
    assert shown.note is None


def test_small_unsigned_types_and_fields_are_never_dates() -> None:
    for kind in ("UInt32", "UInt8", "Field"):
        assert describe_value("updatedAt", {"_type": kind, "value": "100"}).note is None


@pytest.mark.parametrize(
    ("value", "type_name", "text", "note"),
    [
        ({"_type": "Bool", "value": True}, "Bool", "true", None),
        ({"_type": "Bool", "value": False}, "Bool", "false", None),
        ({"_type": "Field", "value": "12345"}, "Field", "12345", None),
        ({"_type": "PublicKey", "value": OWNER}, "PublicKey", OWNER, None),
        (
            {"_type": "DynamicBytes", "maxLength": 8, "value": "beef", "_isFactory": True},
            "DynamicBytes",
            "beef",
            "2 of at most 8 bytes",
        ),
        (
            {"_type": "DynamicString", "maxLength": 8, "value": "héllo", "_isFactory": True},
            "DynamicString",
            "héllo",
            None,
        ),
        (
            {"_type": "Signature", "value": {"r": "1", "s": "2"}},
            "Signature",
            "r=1 s=2",
            None,
        ),
    ],
)
def test_each_o1js_type_reads_as_its_value(
    value: dict[str, Any], type_name: str, text: str, note: str | None
) -> None:
    assert describe_value("field", value) == ValueView("field", type_name, text, note)


def test_a_struct_shows_its_members_nested() -> None:
    struct = {
        "_type": "Struct",
        "properties": {"level": {"_type": "UInt8"}, "place": {"city": {"_type": "Field"}}},
        "value": {
            "level": {"_type": "UInt8", "value": "3"},
            "place": {"city": {"_type": "Field", "value": "9"}},
        },
    }

    shown = describe_value("badge", struct)

    assert shown.type_name == "Struct"
    assert [member.name for member in shown.members] == ["level", "place"]
    assert shown.members[0].text == "3"
    assert shown.members[1].type_name == "Record"
    assert shown.members[1].members == (ValueView("city", "Field", "9"),)
    assert shown.lines() == [
        "badge:  [Struct]",
        "  level: 3  [UInt8]",
        "  place:  [Record]",
        "    city: 9  [Field]",
    ]


def test_the_struct_form_of_a_credential_reads_like_the_plain_form() -> None:
    plain = seed_credential()
    struct = dict(plain)
    struct["witness"] = {"type": "imported", "vk": {}, "proof": {}}
    struct["credential"] = {
        "_type": "Struct",
        "properties": {},
        "value": plain["credential"],
    }
    struct["metadata"] = {"label": "passport"}

    view = describe_credential(struct)

    assert view.owner == OWNER
    assert view.issuer is None
    assert view.witness == "imported: a zero-knowledge proof"
    assert view.data == describe_credential(plain).data
    assert view.metadata == '{"label":"passport"}'


@pytest.mark.parametrize(
    "document",
    [None, [], "text", 7, {}, {"credential": []}, {"credential": {"data": 5}}],
)
def test_any_shape_is_shown_without_failing(document: Any) -> None:
    view = describe_credential(document)

    assert view.owner
    assert isinstance(view.as_json(), dict)


def test_unreadable_json_is_shown_as_it_is() -> None:
    view = describe_credential_json("{not json")

    assert view is not None
    assert view.data[0].text == "{not json"
    assert describe_credential_json(None) is None
