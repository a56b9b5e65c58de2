"""The params of mina_storePrivateCredential: validation and the stored form S.

A stored credential is `{"version": "v0", "witness": W, "metadata": any JSON
(optional), "credential": {"owner": PublicKey, "data": {...}}}`, as
mina-attestations writes it (0.4 and 0.5), or with `credential` in the o1js
Struct form an imported credential's proof output takes. The checks are
stricter than mina-attestations' own schema: no unknown keys anywhere outside
`data`'s keys and `metadata`, numbers as canonical decimal strings in range,
hex and strings of the right length.

Every refusal is an `InvalidParams` whose data names the field and the reason,
built from our own words only: never the input, never a library's message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from wallet_rpc.errors import InvalidParams
from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.keys import InvalidPublicKey, decode_public_key

__all__ = ["ValidCredential", "WitnessType", "parse_store_params", "stored_dedup_digest"]

_logger = logging.getLogger(__name__)

WitnessType = Literal["native", "imported", "unsigned"]

# Deep enough for any real credential (the docs' example nests 5 objects, an
# imported credential 8), shallow enough that nothing recurses far.
MAX_NESTING = 64
# JSON numbers in metadata must stay finite when a JavaScript wallet reads them.
_JS_NUMBER_LIMIT = 1 << 1024
_JS_SAFE_INTEGER = 2**53 - 1
# JavaScript enumerates "array index" keys (canonical decimals below 2^32 - 1) first.
_MAX_ARRAY_INDEX = 2**32 - 2
_MAX_ARRAY_INDEX_DIGITS = len(str(_MAX_ARRAY_INDEX))
_MAX_DYNAMIC_LENGTH = 2**16 - 1
# Field names in errors stay short: they name a part of the input, never echo it.
_KEY_NAME_LIMIT = 64
_FIELD_NAME_LIMIT = 200

_REASON = "wallet_invalid"
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class ValidCredential:
    """A credential that passed every structural check, in the form it is stored and answered."""

    stored_json: str
    """S: compact JSON, non-ASCII kept, top-level keys version, witness, metadata, credential."""
    document: dict[str, Any]
    """The credential as a JSON object in S's key order (what a signature checker hashes).

    Parts that needed no reordering are the params' own objects: neither is to be changed.
    """
    dedup_key: str
    """Hex sha256 of the credential less its metadata, whatever its key order."""
    owner: str
    witness_type: WitnessType
    issuer: str | None
    expires_at_ms: int | None


class _Refusal(Exception):
    """A refusal found outside pydantic; `path` is filled in as the error unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str | int] = []


def _refuse(reason: str) -> NoReturn:
    raise PydanticCustomError(_REASON, reason)


def _refuse_at(loc: tuple[str | int, ...], reason: str) -> NoReturn:
    """Refuse a part below the value being validated (pydantic prefixes our loc with its own)."""
    raise ValidationError.from_exception_data(
        "credential",
        [InitErrorDetails(type=PydanticCustomError(_REASON, reason), loc=loc, input=None)],
    )


# --- scalar checks -------------------------------------------------------------------------


def _decimal_check(bound: int, name: str) -> Callable[[str], str]:
    """A check that text is a canonical decimal (digits only, no leading zero) below bound."""
    max_digits = len(str(bound - 1))
    not_canonical = f"{name} must be a canonical decimal string"
    out_of_range = f"{name} out of range"

    def check(text: str) -> str:
        if not (text.isdigit() and text.isascii()) or (text[0] == "0" and len(text) > 1):
            _refuse(not_canonical)
        # Only a number as long as the bound needs int(); this also keeps int() off huge strings.
        if len(text) >= max_digits and (len(text) > max_digits or int(text) >= bound):
            _refuse(out_of_range)
        return text

    return check


def _decimal(bound: int, name: str) -> AfterValidator:
    return AfterValidator(_decimal_check(bound, name))


FieldDecimal = Annotated[str, _decimal(P, "field element")]
ScalarDecimal = Annotated[str, _decimal(Q, "scalar")]
UInt8Decimal = Annotated[str, _decimal(2**8, "UInt8")]
UInt32Decimal = Annotated[str, _decimal(2**32, "UInt32")]
UInt64Decimal = Annotated[str, _decimal(2**64, "UInt64")]


def _check_public_key(text: str) -> str:
    if len(text) != 55:
        _refuse("public key must be 55 characters")
    try:
        decode_public_key(text)
    except InvalidPublicKey as error:
        _refuse(f"invalid public key: {error}")
    return text


B62 = Annotated[str, AfterValidator(_check_public_key)]


def _check_base64(text: str) -> str:
    body = text.rstrip("=")
    if len(text) % 4 or len(text) - len(body) > 2 or not _BASE64_ALPHABET.issuperset(body):
        _refuse("must be base64")
    return text


Base64 = Annotated[str, AfterValidator(_check_base64)]


def _true_only(value: object) -> Literal[True]:
    if value is not True:
        _refuse("must be true")
    return True


IsFactory = Annotated[Literal[True], PlainValidator(_true_only)]


def _bool_or_null(value: object) -> bool | None:
    if value is None or type(value) is bool:
        return value
    _refuse("must be a boolean or null")


BoolOrNull = Annotated[bool | None, PlainValidator(_bool_or_null)]
NonNegativeInt = Annotated[int, Field(ge=0)]
DynamicLength = Annotated[int, Field(ge=0, le=_MAX_DYNAMIC_LENGTH)]
ProofCount = Annotated[int, Field(ge=0, le=2)]


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and _HEX_DIGITS.issuperset(text)


# --- JSON trees: checks for free-form parts and JavaScript key order -----------------------


def _is_array_index(key: str) -> bool:
    return (
        len(key) <= _MAX_ARRAY_INDEX_DIGITS
        and key.isascii()
        and key.isdigit()
        and (key[0] != "0" or len(key) == 1)
        and int(key) <= _MAX_ARRAY_INDEX
    )


def _js_object_order(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with its keys in JavaScript's order: array indices ascending, then the rest."""
    index_keys = sorted(
        (key for key in obj if "0" <= key[:1] <= "9" and _is_array_index(key)), key=int
    )
    if not index_keys:
        return obj
    ordered = {key: obj[key] for key in index_keys}
    for key, value in obj.items():
        if key not in ordered:
            ordered[key] = value
    return ordered


def _json_tree(node: Any, depth: int) -> Any:
    """Check a free-form JSON value and return it in JavaScript key order.

    Unchanged parts are returned as the same objects. Raises _Refusal for anything
    that is not plain JSON: other Python types, non-finite floats, numbers beyond
    what a JavaScript wallet reads, nesting deeper than MAX_NESTING.
    """
    kind = type(node)
    if kind is str or kind is bool or node is None:
        return node
    if kind is int:
        if -_JS_NUMBER_LIMIT < node < _JS_NUMBER_LIMIT:
            return node
        raise _Refusal("number out of range")
    if kind is float:
        if not math.isfinite(node):
            raise _Refusal("number must be finite")
        # JavaScript writes an integral number without a fraction: 1.0 is stored as 1.
        if node.is_integer() and -_JS_SAFE_INTEGER <= node <= _JS_SAFE_INTEGER:
            return int(node)
        return node
    if depth >= MAX_NESTING:
        raise _Refusal("nested too deeply")
    if kind is dict:
        changed: dict[str, Any] | None = None
        has_index_key = False
        for key, value in node.items():
            if type(key) is not str:
                raise _Refusal("object keys must be strings")
            if "0" <= key[:1] <= "9" and _is_array_index(key):
                has_index_key = True
            try:
                new_value = _json_tree(value, depth + 1)
            except _Refusal as refusal:
                refusal.path.append(key)
                raise
            if new_value is not value:
                if changed is None:
                    changed = {}
                changed[key] = new_value
        if changed is not None:
            node = {key: changed.get(key, value) for key, value in node.items()}
        return _js_object_order(node) if has_index_key else node
    if kind is list:
        items: list[Any] | None = None
        for index, item in enumerate(node):
            try:
                new_item = _json_tree(item, depth + 1)
            except _Refusal as refusal:
                refusal.path.append(index)
                raise
            if new_item is not item:
                if items is None:
                    items = list(node)
                items[index] = new_item
        return node if items is None else items
    raise _Refusal("not a JSON value")


def _checked_tree(node: Any, depth: int = 0) -> Any:
    """_json_tree inside a pydantic validator: a refusal becomes a located pydantic error."""
    try:
        return _json_tree(node, depth)
    except _Refusal as refusal:
        _refuse_at(tuple(reversed(refusal.path)), refusal.reason)


def _nesting_exceeds(node: Any, limit: int) -> bool:
    """Whether node nests objects/arrays deeper than limit (iterative: safe on any input)."""
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if type(current) is dict:
            children: Any = current.values()
        elif type(current) is list:
            children = current
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


JsonTree = Annotated[Any, PlainValidator(_checked_tree)]


# --- serialized o1js values ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PublicKeyValue(_Strict):
    type_: Literal["PublicKey"] = Field(alias="_type")
    value: B62

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "PublicKey"}


class SignatureParts(_Strict):
    r: FieldDecimal
    s: ScalarDecimal


class SignatureValue(_Strict):
    type_: Literal["Signature"] = Field(alias="_type")
    value: SignatureParts

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Signature"}


class FieldValue(_Strict):
    type_: Literal["Field"] = Field(alias="_type")
    value: FieldDecimal

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Field"}


class BoolValue(_Strict):
    type_: Literal["Bool"] = Field(alias="_type")
    value: bool

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Bool"}


class UInt8Value(_Strict):
    type_: Literal["UInt8"] = Field(alias="_type")
    value: UInt8Decimal

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "UInt8"}


class UInt32Value(_Strict):
    type_: Literal["UInt32"] = Field(alias="_type")
    value: UInt32Decimal

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "UInt32"}


class UInt64Value(_Strict):
    type_: Literal["UInt64"] = Field(alias="_type")
    value: UInt64Decimal

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "UInt64"}


class Int64Parts(_Strict):
    """mina-attestations 0.4's form of an Int64."""

    magnitude: UInt64Decimal
    sgn: Literal["Positive", "Negative"]


_check_int64_magnitude = _decimal_check(2**64, "Int64")


def _int64_value(value: object) -> Int64Parts | str:
    if type(value) is dict:
        return Int64Parts.model_validate(value)
    if type(value) is not str:
        _refuse("must be a signed decimal string or {magnitude, sgn}")
    # 0.5's form, Int64.toString(): an optional "-" and a canonical magnitude; zero is "0".
    negative = value[:1] == "-"
    magnitude = _check_int64_magnitude(value[1:] if negative else value)
    if negative and magnitude == "0":
        _refuse("Int64 zero must be written 0")
    return value


class Int64Value(_Strict):
    type_: Literal["Int64"] = Field(alias="_type")
    value: Annotated[Int64Parts | str, PlainValidator(_int64_value)]

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Int64"}


class BytesValue(_Strict):
    type_: Literal["Bytes"] = Field(alias="_type")
    size: NonNegativeInt
    value: str

    @field_validator("value")
    @classmethod
    def _hex_of_size(cls, value: str, info: ValidationInfo) -> str:
        size = info.data.get("size")
        if size is not None and (len(value) != 2 * size or not _is_hex(value)):
            _refuse("must be hex of exactly size bytes")
        return value

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Bytes", "size": self.size}


class DynamicBytesValue(_Strict):
    type_: Literal["DynamicBytes"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    value: str
    is_factory: IsFactory = Field(alias="_isFactory")

    @field_validator("value")
    @classmethod
    def _hex_within_max_length(cls, value: str, info: ValidationInfo) -> str:
        max_length = info.data.get("max_length")
        if not _is_hex(value):
            _refuse("must be hex")
        # mina-attestations' fromJSON refuses any other length ("input has to
        # match maxLength"), so Auro Wallet would too.
        if max_length is not None and len(value) != 2 * max_length:
            _refuse("must be exactly maxLength bytes")
        return value

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "DynamicBytes", "maxLength": self.max_length, "_isFactory": True}


class DynamicStringValue(_Strict):
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
            _refuse("longer than maxLength bytes")
        return value

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "DynamicString", "maxLength": self.max_length, "_isFactory": True}


# --- types in Struct properties: what a Struct's value must match --------------------------

_DATA_BASIC_TYPES = frozenset(
    {"Field", "Bool", "UInt8", "UInt32", "UInt64", "Int64", "PublicKey", "Signature"}
)


class BasicType(_Strict):
    type_: str = Field(alias="_type")


class BytesType(_Strict):
    type_: Literal["Bytes"] = Field(alias="_type")
    size: NonNegativeInt


class DynamicType(_Strict):
    type_: Literal["DynamicString", "DynamicBytes"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    is_factory: IsFactory = Field(alias="_isFactory")


def _data_type(value: object) -> dict[str, Any]:
    """A type in a Struct's properties: one of the data types, or a record of them."""
    if type(value) is not dict:
        _refuse("must be a type object")
    if "_type" not in value:
        return _DATA_RECORD_TYPE.validate_python(value)
    kind = value["_type"]
    if type(kind) is not str:
        _refuse_at(("_type",), "must be a string")
    if kind in _DATA_BASIC_TYPES:
        BasicType.model_validate(value)
    elif kind == "Bytes":
        BytesType.model_validate(value)
    elif kind in ("DynamicString", "DynamicBytes"):
        DynamicType.model_validate(value)
    elif kind == "Struct":
        StructType.model_validate(value)
    else:
        _refuse_at(("_type",), "unsupported type")
    return value


DataType = Annotated[dict[str, Any], PlainValidator(_data_type)]


class StructType(_Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, DataType]


_DATA_RECORD_TYPE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, DataType], config=ConfigDict(strict=True)
)


# --- values in data and inside Structs -----------------------------------------------------


def _typed_value(value: dict[str, Any]) -> SerializedValue:
    if "_type" not in value:
        _refuse("must be a string or a serialized value (an object with _type)")
    kind = value["_type"]
    if type(kind) is not str:
        _refuse_at(("_type",), "must be a string")
    model = _VALUE_MODELS.get(kind)
    if model is None:
        _refuse_at(("_type",), "unsupported type")
    if model is StructValue and _nesting_exceeds(value, MAX_NESTING):
        _refuse("nested too deeply")
    return model.model_validate(value)


def _data_value(value: object) -> str | SerializedValue:
    """A value in data: a plain string or a serialized value of a listed type."""
    if type(value) is str:
        return value
    if type(value) is dict:
        return _typed_value(value)
    _refuse("must be a string or a serialized value (an object with _type)")


def _struct_member(value: object) -> SerializedValue | dict[str, Any]:
    """A value inside a Struct: a serialized value, or a record of them (a nested property)."""
    if type(value) is not dict:
        _refuse("must be a serialized value")
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


def _match_properties(
    properties: dict[str, Any], values: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    """Refuse values that do not have exactly the keys and types properties declares."""
    for key in values:
        if key not in properties:
            _refuse_at((*loc, key), "not in properties")
    for key, declared in properties.items():
        if key not in values:
            _refuse_at((*loc, key), "missing")
        if _descriptor_of(values[key]) != declared:
            _refuse_at((*loc, key), "does not match its type in properties")


class StructValue(_Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, DataType]
    value: dict[str, StructMember]

    @model_validator(mode="after")
    def _value_matches_properties(self) -> StructValue:
        _match_properties(self.properties, self.value, ("value",))
        return self

    def descriptor(self) -> dict[str, Any]:
        return {"_type": "Struct", "properties": self.properties}


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


# --- the credential: plain form and o1js Struct form ---------------------------------------


class PlainCredential(_Strict):
    owner: PublicKeyValue
    data: dict[str, DataValue]


def _data_level_type(value: object) -> dict[str, Any]:
    """A type for one of data's values: a data type, not a record (data is flat)."""
    if type(value) is dict and "_type" not in value:
        _refuse("must be a type object with _type")
    return _data_type(value)


class PublicKeyType(_Strict):
    type_: Literal["PublicKey"] = Field(alias="_type")


class CredentialProperties(_Strict):
    owner: PublicKeyType
    data: dict[str, Annotated[dict[str, Any], PlainValidator(_data_level_type)]]


class CredentialStructValue(_Strict):
    owner: PublicKeyValue
    data: dict[str, DataValue]


class StructCredential(_Strict):
    """The credential as an o1js Struct {owner, data}: the public output of an imported proof."""

    type_: Literal["Struct"] = Field(alias="_type")
    properties: CredentialProperties
    value: CredentialStructValue

    @model_validator(mode="after")
    def _data_matches_properties(self) -> StructCredential:
        _match_properties(self.properties.data, self.value.data, ("value", "data"))
        return self


def _credential(value: object) -> PlainCredential | StructCredential:
    if type(value) is not dict:
        _refuse("must be an object")
    if "_type" in value:
        if _nesting_exceeds(value, MAX_NESTING):
            _refuse("nested too deeply")
        return StructCredential.model_validate(value)
    return PlainCredential.model_validate(value)


# --- witnesses -----------------------------------------------------------------------------


class NativeWitness(_Strict):
    type: Literal["native"]
    issuer: PublicKeyValue
    issuer_signature: SignatureValue = Field(alias="issuerSignature")


class UnsignedWitness(_Strict):
    type: Literal["unsigned"]


class VerificationKeyParts(_Strict):
    data: Base64
    hash: FieldDecimal


class TypedVerificationKey(_Strict):
    type_: Literal["VerificationKey"] = Field(alias="_type")
    value: VerificationKeyParts


class PlainVerificationKey(_Strict):
    """How mina-attestations 0.5 writes an imported credential's verification key."""

    data: Base64
    hash: FieldValue


def _verification_key(value: object) -> TypedVerificationKey | PlainVerificationKey:
    if type(value) is not dict:
        _refuse("must be an object")
    if "_type" in value:
        return TypedVerificationKey.model_validate(value)
    return PlainVerificationKey.model_validate(value)


_PROVABLE_BASIC_TYPES = frozenset(
    {
        "Field",
        "Bool",
        "UInt8",
        "UInt32",
        "UInt64",
        "Int64",
        "PublicKey",
        "Signature",
        "Undefined",
        "VerificationKey",
    }
)


class ProvableBasicType(_Strict):
    type_: str = Field(alias="_type")


class ProvableConstantType(_Strict):
    type_: Literal["Constant"] = Field(alias="_type")
    value: JsonTree


class ProvableArrayType(_Strict):
    type_: Literal["Array"] = Field(alias="_type")
    inner: ProvableType
    size: NonNegativeInt


class ProvableStructType(_Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, ProvableType]


class ProvableProofType(_Strict):
    type_: Literal["Proof"] = Field(alias="_type")
    proof: ProofType


class DynamicArrayType(_Strict):
    type_: Literal["DynamicArray"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    inner_type: ProvableType = Field(alias="innerType")
    is_factory: IsFactory = Field(alias="_isFactory")


class DynamicRecordType(_Strict):
    type_: Literal["DynamicRecord"] = Field(alias="_type")
    max_entries: DynamicLength = Field(alias="maxEntries")
    known_shape: dict[str, ProvableType] = Field(alias="knownShape")
    is_factory: IsFactory = Field(alias="_isFactory")


_PROVABLE_TYPE_MODELS: dict[str, type[_Strict]] = {
    "Bytes": BytesType,
    "Constant": ProvableConstantType,
    "Array": ProvableArrayType,
    "Struct": ProvableStructType,
    "Proof": ProvableProofType,
    "DynamicString": DynamicType,
    "DynamicBytes": DynamicType,
    "DynamicArray": DynamicArrayType,
    "DynamicRecord": DynamicRecordType,
}


def _provable_type(value: object) -> dict[str, Any]:
    """A serialized o1js type (of a proof's public input or output), or a record of them."""
    if type(value) is not dict:
        _refuse("must be a type object")
    if "_type" not in value:
        return _PROVABLE_RECORD_TYPE.validate_python(value)
    kind = value["_type"]
    if type(kind) is not str:
        _refuse_at(("_type",), "must be a string")
    if kind in _PROVABLE_BASIC_TYPES:
        ProvableBasicType.model_validate(value)
        return value
    model = _PROVABLE_TYPE_MODELS.get(kind)
    if model is None:
        _refuse_at(("_type",), "unsupported type")
    model.model_validate(value)
    return value


ProvableType = Annotated[dict[str, Any], PlainValidator(_provable_type)]

_PROVABLE_RECORD_TYPE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, ProvableType], config=ConfigDict(strict=True)
)


class FeatureFlags(_Strict):
    range_check0: BoolOrNull = Field(alias="rangeCheck0")
    range_check1: BoolOrNull = Field(alias="rangeCheck1")
    foreign_field_add: BoolOrNull = Field(alias="foreignFieldAdd")
    foreign_field_mul: BoolOrNull = Field(alias="foreignFieldMul")
    xor: BoolOrNull
    rot: BoolOrNull
    lookup: BoolOrNull
    runtime_tables: BoolOrNull = Field(alias="runtimeTables")


class ProofType(_Strict):
    name: str
    public_input: ProvableType = Field(alias="publicInput")
    public_output: ProvableType = Field(alias="publicOutput")
    max_proofs_verified: ProofCount = Field(alias="maxProofsVerified")
    feature_flags: FeatureFlags = Field(alias="featureFlags")


class JsonProof(_Strict):
    public_input: list[FieldDecimal] = Field(alias="publicInput")
    public_output: list[FieldDecimal] = Field(alias="publicOutput")
    max_proofs_verified: ProofCount = Field(alias="maxProofsVerified")
    proof: Base64


class ProofValue(_Strict):
    type_: Literal["Proof"] = Field(alias="_type")
    proof: ProofType
    value: JsonProof


class ImportedWitness(_Strict):
    type: Literal["imported"]
    vk: Annotated[TypedVerificationKey | PlainVerificationKey, PlainValidator(_verification_key)]
    proof: ProofValue


_WITNESS_MODELS: dict[str, type[NativeWitness | ImportedWitness | UnsignedWitness]] = {
    "native": NativeWitness,
    "imported": ImportedWitness,
    "unsigned": UnsignedWitness,
}


def _witness(value: object) -> NativeWitness | ImportedWitness | UnsignedWitness:
    if type(value) is not dict:
        _refuse("must be an object")
    kind = value.get("type")
    model = _WITNESS_MODELS.get(kind) if type(kind) is str else None
    if model is None:
        if "type" not in value:
            _refuse_at(("type",), "missing")
        _refuse_at(("type",), "must be 'native', 'imported' or 'unsigned'")
    if model is ImportedWitness and _nesting_exceeds(value, MAX_NESTING):
        _refuse("nested too deeply")
    return model.model_validate(value)


class StoredCredential(_Strict):
    version: Literal["v0"]
    witness: Annotated[NativeWitness | ImportedWitness | UnsignedWitness, PlainValidator(_witness)]
    metadata: JsonTree = None
    credential: Annotated[PlainCredential | StructCredential, PlainValidator(_credential)]


for _model in (
    ProvableArrayType,
    ProvableStructType,
    ProvableProofType,
    DynamicArrayType,
    DynamicRecordType,
):
    _model.model_rebuild()


# --- errors as the client sees them --------------------------------------------------------

_REASONS = {
    "missing": "missing",
    "string_unicode": "not valid Unicode (lone surrogate)",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be a boolean",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "greater_than_equal": "out of range",
    "less_than_equal": "out of range",
    "recursion_loop": "nested too deeply",
}


def _field_name(path: list[str | int] | tuple[str | int, ...]) -> str:
    """A dotted name of the refused part; keys are cut short and made printable."""
    name = "credential"
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a dict key (not part of the path)
            if len(part) > _KEY_NAME_LIMIT:
                part = part[:_KEY_NAME_LIMIT] + "..."
            name += "." + part.encode("utf-8", "backslashreplace").decode("utf-8")
        if len(name) > _FIELD_NAME_LIMIT:
            return name[:_FIELD_NAME_LIMIT] + "..."
    return name


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == _REASON:
        return str(error["msg"])
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']}"
    return _REASONS.get(kind, "invalid value")


def _invalid(path: list[str | int] | tuple[str | int, ...], reason: str) -> InvalidParams:
    return InvalidParams(data={"field": _field_name(path), "reason": reason})


def _first_error(error: ValidationError) -> InvalidParams:
    first = error.errors(include_url=False, include_context=True, include_input=False)[0]
    return _invalid(first["loc"], _reason(first))


def _surrogate_path(node: Any, path: list[str | int]) -> list[str | int] | None:
    """Where the first string that is not valid Unicode (a lone surrogate) is."""
    if type(node) is str:
        return None if _is_unicode(node) else path
    items: Any = ()
    if type(node) is dict:
        for key in node:
            if not _is_unicode(key):
                return [*path, key]
        items = node.items()
    elif type(node) is list:
        items = enumerate(node)
    for key, child in items:
        found = _surrogate_path(child, [*path, key])
        if found is not None:
            return found
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- parse_store_params --------------------------------------------------------------------

# check_circular is off: MAX_NESTING already refuses any cycle.
_COMPACT = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
)
_CANONICAL = json.JSONEncoder(
    ensure_ascii=True,
    allow_nan=False,
    check_circular=False,
    separators=(",", ":"),
    sort_keys=True,
)


def _credential_params(params: object) -> object:
    if type(params) is dict:
        for key in params:
            if key != "credential":
                raise InvalidParams(
                    data={"field": "params", "reason": "unknown key; expected only credential"}
                )
        if "credential" not in params:
            raise _invalid((), "missing")
        return params["credential"]
    if type(params) is list:
        if len(params) != 1:
            raise InvalidParams(
                data={"field": "params", "reason": "must hold exactly one credential"}
            )
        return params[0]
    raise InvalidParams(data={"field": "params", "reason": "must be an object or an array"})


def _js_ordered_data(data: dict[str, Any]) -> dict[str, Any]:
    """data in JavaScript key order, down into its Structs (the only values with free keys)."""
    changed: dict[str, Any] | None = None
    for key, value in data.items():
        if type(value) is dict and value.get("_type") == "Struct":
            ordered = _json_tree(value, 0)
            if ordered is not value:
                if changed is None:
                    changed = {}
                changed[key] = ordered
    if changed is not None:
        data = {key: changed.get(key, value) for key, value in data.items()}
    return _js_object_order(data)


def _dedup_digest(version: Any, witness: Any, credential: Any) -> str:
    """sha256 of the credential less its metadata, whatever its key order (as Auro's hash)."""
    unsigned_part = {"version": version, "witness": witness, "credential": credential}
    return hashlib.sha256(_CANONICAL.encode(unsigned_part).encode("ascii")).hexdigest()


def stored_dedup_digest(stored_json: str) -> str:
    """The dedup digest of a stored S, the same that parse_store_params gave when it was stored."""
    document = json.loads(stored_json)
    return _dedup_digest(document["version"], document["witness"], document["credential"])


def _build(credential: dict[str, Any], max_credential_bytes: int) -> ValidCredential:
    try:
        model = StoredCredential.model_validate(credential)
    except ValidationError as error:
        raise _first_error(error) from None

    witness = credential["witness"]
    if isinstance(model.witness, ImportedWitness):
        witness = _json_tree(witness, 0)
    inner = credential["credential"]
    if isinstance(model.credential, PlainCredential):
        data = inner["data"]
        ordered_data = _js_ordered_data(data)
        if ordered_data is not data:
            inner = {key: ordered_data if key == "data" else value for key, value in inner.items()}
        owner = model.credential.owner.value
        typed_data = model.credential.data
    else:
        inner = _json_tree(inner, 0)
        owner = model.credential.value.owner.value
        typed_data = model.credential.value.data

    document: dict[str, Any] = {"version": credential["version"], "witness": witness}
    if "metadata" in credential:
        document["metadata"] = model.metadata
    document["credential"] = inner

    stored_json = _COMPACT.encode(document)
    if stored_json.isascii():
        size = len(stored_json)
    else:
        try:
            size = len(stored_json.encode("utf-8"))
        except UnicodeEncodeError:
            path = _surrogate_path(document, []) or []
            raise _invalid(path, "not valid Unicode (lone surrogate)") from None
    if size > max_credential_bytes:
        raise _invalid((), f"larger than {max_credential_bytes} bytes")

    dedup_key = _dedup_digest(document["version"], witness, inner)

    expires_at = typed_data.get("expiresAt")
    return ValidCredential(
        stored_json=stored_json,
        document=document,
        dedup_key=dedup_key,
        owner=owner,
        witness_type=model.witness.type,
        issuer=model.witness.issuer.value if isinstance(model.witness, NativeWitness) else None,
        expires_at_ms=int(expires_at.value) if isinstance(expires_at, UInt64Value) else None,
    )


def parse_store_params(params: object, *, max_credential_bytes: int) -> ValidCredential:
    """params as the JSON-RPC request carried them: {"credential": C} (Auro) or [C] (Pallad).

    Raises InvalidParams(data={"field", "reason"}) for anything wrong.
    """
    credential = _credential_params(params)
    if type(credential) is not dict:
        reason = "must be an object, not a JSON string" if type(credential) is str else None
        raise _invalid((), reason or "must be an object")
    try:
        return _build(credential, max_credential_bytes)
    except InvalidParams:
        raise
    except Exception:
        # Every refusal above is an InvalidParams; reaching this is a defect, logged as one.
        # The client still gets the answer its input deserves: its params were not accepted.
        _logger.exception("credential validation failed unexpectedly")
        raise _invalid((), "could not be validated") from None
