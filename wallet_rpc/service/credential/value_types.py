"""o1js value types as a Struct's `properties` declare them: what each of its values must be.

A Struct declares a type per key: one of the data types (`{"_type": "UInt64"}`,
`{"_type": "Bytes", "size": 32}`, a nested Struct, ...) or a record of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, TypeAdapter

from wallet_rpc.service.credential.refusals import refused, refused_at
from wallet_rpc.service.credential.scalars import DynamicLength, IsFactory, NonNegativeInt, Strict

__all__ = [
    "BasicType",
    "BytesType",
    "DataType",
    "DynamicType",
    "StructType",
    "checked_type",
    "data_type",
]

_DATA_BASIC_TYPES = frozenset(
    {"Field", "Bool", "UInt8", "UInt32", "UInt64", "Int64", "PublicKey", "Signature"}
)


class BasicType(Strict):
    type_: str = Field(alias="_type")


class BytesType(Strict):
    type_: Literal["Bytes"] = Field(alias="_type")
    size: NonNegativeInt


class DynamicType(Strict):
    type_: Literal["DynamicString", "DynamicBytes"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    is_factory: IsFactory = Field(alias="_isFactory")


def checked_type(
    value: object,
    basic_kinds: frozenset[str],
    models: Mapping[str, type[Strict]],
    records: TypeAdapter[dict[str, Any]],
) -> dict[str, Any]:
    """A serialized o1js type of one family: a basic kind, a kind with a model, or a record.

    The data types of a Struct and the provable types of a proof's public
    input and output are read alike; each family names its own kinds.
    """
    if type(value) is not dict:
        raise refused("must be a type object")
    if "_type" not in value:
        return records.validate_python(value)
    kind = value["_type"]
    if type(kind) is not str:
        raise refused_at(("_type",), "must be a string")
    if kind in basic_kinds:
        BasicType.model_validate(value)
        return value
    model = models.get(kind)
    if model is None:
        raise refused_at(("_type",), "unsupported type")
    model.model_validate(value)
    return value


def data_type(value: object) -> dict[str, Any]:
    """A type in a Struct's properties: one of the data types, or a record of them."""
    return checked_type(value, _DATA_BASIC_TYPES, _DATA_TYPE_MODELS, _DATA_RECORD_TYPE)


DataType = Annotated[dict[str, Any], PlainValidator(data_type)]


class StructType(Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, DataType]


_DATA_RECORD_TYPE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, DataType], config=ConfigDict(strict=True)
)
_DATA_TYPE_MODELS: dict[str, type[Strict]] = {
    "Bytes": BytesType,
    "DynamicString": DynamicType,
    "DynamicBytes": DynamicType,
    "Struct": StructType,
}
