"""Serialized o1js values (`{"_type": ..., "value": ...}`) and the values a credential's data holds.

Each value is checked in its range: a `PublicKey` is a valid B62 address, a
`UInt64` a canonical decimal below 2^64, `Bytes` hex of its size, a `Struct`'s
value has exactly the keys and types its `properties` declare.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wallet_rpc.service.credential.json_tree import MAX_NESTING, nesting_exceeds
from wallet_rpc.service.credential.refusals import refused, refused_at
from wallet_rpc.service.credential.scalars import (
    B62,
    DynamicLength,
    FieldDecimal,
    IsFactory,
    NonNegativeInt,
    ScalarDecimal,
    Strict,
    UInt8Decimal,
    UInt32Decimal,
    UInt64Decimal,
    decimal_check,
    is_hex,
)
from wallet_rpc.service.credential.value_types import DataType

__all__ = [
    "DataValue",
    "FieldValue",
    "PublicKeyValue",
    "SerializedValue",
    "SignatureValue",
    "UInt64Value",
    "match_properties",
]


class _Serialized(Strict):
    """A serialized value: `_type`, the type's parameters, and `value`."""

    def descriptor(self) -> dict[str, Any]:
        """The value's type as a Struct's properties declare it: everything but the value."""
        return self.model_dump(by_alias=True, exclude={"value"})


class PublicKeyValue(_Serialized):
    type_: Literal["PublicKey"] = Field(alias="_type")
    value: B62


class SignatureParts(Strict):
    r: FieldDecimal
    s: ScalarDecimal


class SignatureValue(_Serialized):
    type_: Literal["Signature"] = Field(alias="_type")
    value: SignatureParts


class FieldValue(_Serialized):
    type_: Literal["Field"] = Field(alias="_type")
    value: FieldDecimal


class BoolValue(_Serialized):
    type_: Literal["Bool"] = Field(alias="_type")
    value: bool


class UInt8Value(_Serialized):
    type_: Literal["UInt8"] = Field(alias="_type")
    value: UInt8Decimal


class UInt32Value(_Serialized):
    type_: Literal["UInt32"] = Field(alias="_type")
    value: UInt32Decimal


class UInt64Value(_Serialized):
    type_: Literal["UInt64"] = Field(alias="_type")
    value: UInt64Decimal


class Int64Parts(Strict):
    """mina-attestations 0.4's form of an Int64."""

    magnitude: UInt64Decimal
    sgn: Literal["Positive", "Negative"]


_check_int64_magnitude = decimal_check(2**64, "Int64")


def _int64_value(value: object) -> Int64Parts | str:
    if type(value) is dict:
        return Int64Parts.model_validate(value)
    if type(value) is not str:
        raise refused("must be a signed decimal string or {magnitude, sgn}")
    # 0.5's form, Int64.toString(): an optional "-" and a canonical magnitude; zero is "0".
    negative = value[:1] == "-"
    magnitude = _check_int64_magnitude(value[1:] if negative else value)
    if negative and magnitude == "0":
        raise refused("Int64 zero must be written 0")
    return value


class Int64Value(_Serialized):
    type_: Literal["Int64"] = Field(alias="_type")
    value: Annotated[Int64Parts | str, PlainValidator(_int64_value)]


class BytesValue(_Serialized):
    type_: Literal["Bytes"] = Field(alias="_type")
    size: NonNegativeInt
    value: str

    @field_validator("value")
    @classmethod
    def _hex_of_size(cls, value: str, info: ValidationInfo) -> str:
        size = info.data.get("size")
        if size is not None and (len(value) != 2 * size or not is_hex(value)):
            raise refused("must be hex of exactly size bytes")
        return value


class DynamicBytesValue(_Serialized):
    type_: Literal["DynamicBytes"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    value: str
    is_factory: IsFactory = Field(alias="_isFactory")

    @field_validator("value")
    @classmethod
    def _hex_within_max_length(cls, value: str, info: ValidationInfo) -> str:
        max_length = info.data.get("max_length")
        if not is_hex(value):
            raise refused("must be hex")
        # mina-attestations' fromJSON refuses any other length ("input has to
        # match maxLength"), so Auro Wallet would too.
        if max_length is not None and len(value) != 2 * max_length:
            raise refused("must be exactly maxLength bytes")
        return value


class DynamicStringValue(_Serialized):
    type_: Literal["DynamicString"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    value: str
    is_factory: IsFactory = Field(alias="_isFactory")

    @field_validator("value")
    @classmethod
    def _within_max_length(cls, value: str, info: ValidationInfo) -> str:
        max_length = info.data.get("max_length")
        # maxLength counts UTF-8 bytes; a lone surrogate has none and is refused with S.
        if max_length is not None and len(value.encode("utf-8", "surrogatepass")) > max_length:
            raise refused("longer than maxLength bytes")
        return value


# --- values in data and inside Structs -----------------------------------------------------


def _typed_value(value: dict[str, Any]) -> SerializedValue:
    if "_type" not in value:
        raise refused("must be a string or a serialized value (an object with _type)")
    kind = value["_type"]
    if type(kind) is not str:
        raise refused_at(("_type",), "must be a string")
    model = _VALUE_MODELS.get(kind)
    if model is None:
        raise refused_at(("_type",), "unsupported type")
    if model is StructValue and nesting_exceeds(value, MAX_NESTING):
        raise refused("nested too deeply")
    return model.model_validate(value)


def _data_value(value: object) -> str | SerializedValue:
    """A value in data: a plain string or a serialized value of a listed type."""
    if type(value) is str:
        return value
    if type(value) is dict:
        return _typed_value(value)
    raise refused("must be a string or a serialized value (an object with _type)")


def _struct_member(value: object) -> SerializedValue | dict[str, Any]:
    """A value inside a Struct: a serialized value, or a record of them (a nested property)."""
    if type(value) is not dict:
        raise refused("must be a serialized value")
    if "_type" in value:
        return _typed_value(value)
    return _STRUCT_RECORD.validate_python(value)


DataValue = Annotated[Any, PlainValidator(_data_value)]
StructMember = Annotated[Any, PlainValidator(_struct_member)]

_STRUCT_RECORD: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, StructMember], config=ConfigDict(strict=True)
)


def _descriptor_of(member: SerializedValue | dict[str, Any]) -> dict[str, Any]:
    if isinstance(member, dict):
        return {key: _descriptor_of(inner) for key, inner in member.items()}
    return member.descriptor()


def match_properties(
    properties: dict[str, Any], values: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    """Refuse values that do not have exactly the keys and types properties declares."""
    for key in values:
        if key not in properties:
            raise refused_at((*loc, key), "not in properties")
    for key, declared in properties.items():
        if key not in values:
            raise refused_at((*loc, key), "missing")
        if _descriptor_of(values[key]) != declared:
            raise refused_at((*loc, key), "does not match its type in properties")


class StructValue(_Serialized):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, DataType]
    value: dict[str, StructMember]

    @model_validator(mode="after")
    def _value_matches_properties(self) -> StructValue:
        match_properties(self.properties, self.value, ("value",))
        return self


SerializedValue = (
    PublicKeyValue
    | SignatureValue
    | FieldValue
    | BoolValue
    | UInt8Value
    | UInt32Value
    | UInt64Value
    | Int64Value
    | BytesValue
    | DynamicBytesValue
    | DynamicStringValue
    | StructValue
)

_VALUE_MODELS: dict[str, type[SerializedValue]] = {
    "PublicKey": PublicKeyValue,
    "Signature": SignatureValue,
    "Field": FieldValue,
    "Bool": BoolValue,
    "UInt8": UInt8Value,
    "UInt32": UInt32Value,
    "UInt64": UInt64Value,
    "Int64": Int64Value,
    "Bytes": BytesValue,
    "DynamicBytes": DynamicBytesValue,
    "DynamicString": DynamicStringValue,
    "Struct": StructValue,
}
