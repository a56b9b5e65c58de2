"""o1js value types as a Struct's `properties` declare them: what each of its values must be.

A Struct declares a type per key: one of the data types (`{"_type": "UInt64"}`,
`{"_type": "Bytes", "size": 32}`, a nested Struct, ...) or a record of them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, TypeAdapter

from wallet_rpc.service.credential.refusals import refused, refused_at
from wallet_rpc.service.credential.scalars import DynamicLength, IsFactory, NonNegativeInt, Strict

__all__ = ["BasicType", "BytesType", "DataType", "DynamicType", "StructType", "data_type"]

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


def data_type(value: object) -> dict[str, Any]:
    """A type in a Struct's properties: one of the data types, or a record of them."""
    if type(value) is not dict:
        raise refused("must be a type object")
    if "_type" not in value:
        return _DATA_RECORD_TYPE.validate_python(value)
    kind = value["_type"]
    if type(kind) is not str:
        raise refused_at(("_type",), "must be a string")
    if kind in _DATA_BASIC_TYPES:
        BasicType.model_validate(value)
    elif kind == "Bytes":
        BytesType.model_validate(value)
    elif kind in ("DynamicString", "DynamicBytes"):
        DynamicType.model_validate(value)
    elif kind == "Struct":
        StructType.model_validate(value)
    else:
        raise refused_at(("_type",), "unsupported type")
    return value


DataType = Annotated[dict[str, Any], PlainValidator(data_type)]


class StructType(Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, DataType]


_DATA_RECORD_TYPE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, DataType], config=ConfigDict(strict=True)
)
