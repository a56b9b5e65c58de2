"""Witnesses: what vouches for a credential (native: an issuer's signature; imported: a proof).

An imported witness carries a Pickles proof and its verification key, with the
o1js types of the proof's public input and output: each is checked for shape
and range here, the proof itself is not.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, TypeAdapter

from wallet_rpc.service.credential.json_tree import MAX_NESTING, JsonTree, nesting_exceeds
from wallet_rpc.service.credential.refusals import refused, refused_at
from wallet_rpc.service.credential.scalars import (
    Base64,
    BoolOrNull,
    DynamicLength,
    FieldDecimal,
    IsFactory,
    NonNegativeInt,
    ProofCount,
    Strict,
)
from wallet_rpc.service.credential.value_types import BytesType, DynamicType, checked_type
from wallet_rpc.service.credential.values import FieldValue, PublicKeyValue, SignatureValue

__all__ = ["ImportedWitness", "NativeWitness", "UnsignedWitness", "Witness", "witness"]


class NativeWitness(Strict):
    type: Literal["native"]
    issuer: PublicKeyValue
    issuer_signature: SignatureValue = Field(alias="issuerSignature")


class UnsignedWitness(Strict):
    type: Literal["unsigned"]


class VerificationKeyParts(Strict):
    data: Base64
    hash: FieldDecimal


class TypedVerificationKey(Strict):
    type_: Literal["VerificationKey"] = Field(alias="_type")
    value: VerificationKeyParts


class PlainVerificationKey(Strict):
    """How mina-attestations 0.5 writes an imported credential's verification key."""

    data: Base64
    hash: FieldValue


def _verification_key(value: object) -> TypedVerificationKey | PlainVerificationKey:
    if type(value) is not dict:
        raise refused("must be an object")
    if "_type" in value:
        return TypedVerificationKey.model_validate(value)
    return PlainVerificationKey.model_validate(value)


# --- o1js types of a proof's public input and output ---------------------------------------

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


class ProvableConstantType(Strict):
    type_: Literal["Constant"] = Field(alias="_type")
    value: JsonTree


class ProvableArrayType(Strict):
    type_: Literal["Array"] = Field(alias="_type")
    inner: ProvableType
    size: NonNegativeInt


class ProvableStructType(Strict):
    type_: Literal["Struct"] = Field(alias="_type")
    properties: dict[str, ProvableType]


class ProvableProofType(Strict):
    type_: Literal["Proof"] = Field(alias="_type")
    proof: ProofType


class DynamicArrayType(Strict):
    type_: Literal["DynamicArray"] = Field(alias="_type")
    max_length: DynamicLength = Field(alias="maxLength")
    inner_type: ProvableType = Field(alias="innerType")
    is_factory: IsFactory = Field(alias="_isFactory")


class DynamicRecordType(Strict):
    type_: Literal["DynamicRecord"] = Field(alias="_type")
    max_entries: DynamicLength = Field(alias="maxEntries")
    known_shape: dict[str, ProvableType] = Field(alias="knownShape")
    is_factory: IsFactory = Field(alias="_isFactory")


_PROVABLE_TYPE_MODELS: dict[str, type[Strict]] = {
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
    return checked_type(value, _PROVABLE_BASIC_TYPES, _PROVABLE_TYPE_MODELS, _PROVABLE_RECORD_TYPE)


ProvableType = Annotated[dict[str, Any], PlainValidator(_provable_type)]

_PROVABLE_RECORD_TYPE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    dict[str, ProvableType], config=ConfigDict(strict=True)
)


class FeatureFlags(Strict):
    range_check0: BoolOrNull = Field(alias="rangeCheck0")
    range_check1: BoolOrNull = Field(alias="rangeCheck1")
    foreign_field_add: BoolOrNull = Field(alias="foreignFieldAdd")
    foreign_field_mul: BoolOrNull = Field(alias="foreignFieldMul")
    xor: BoolOrNull
    rot: BoolOrNull
    lookup: BoolOrNull
    runtime_tables: BoolOrNull = Field(alias="runtimeTables")


class ProofType(Strict):
    name: str
    public_input: ProvableType = Field(alias="publicInput")
    public_output: ProvableType = Field(alias="publicOutput")
    max_proofs_verified: ProofCount = Field(alias="maxProofsVerified")
    feature_flags: FeatureFlags = Field(alias="featureFlags")


class JsonProof(Strict):
    public_input: list[FieldDecimal] = Field(alias="publicInput")
    public_output: list[FieldDecimal] = Field(alias="publicOutput")
    max_proofs_verified: ProofCount = Field(alias="maxProofsVerified")
    proof: Base64


class ProofValue(Strict):
    type_: Literal["Proof"] = Field(alias="_type")
    proof: ProofType
    value: JsonProof


class ImportedWitness(Strict):
    type: Literal["imported"]
    vk: Annotated[TypedVerificationKey | PlainVerificationKey, PlainValidator(_verification_key)]
    proof: ProofValue


for _model in (
    ProvableArrayType,
    ProvableStructType,
    ProvableProofType,
    DynamicArrayType,
    DynamicRecordType,
):
    _model.model_rebuild()


Witness = NativeWitness | ImportedWitness | UnsignedWitness

_WITNESS_MODELS: dict[str, type[Witness]] = {
    "native": NativeWitness,
    "imported": ImportedWitness,
    "unsigned": UnsignedWitness,
}


def witness(value: object) -> Witness:
    """The witness of a credential, checked as the model its `type` names."""
    if type(value) is not dict:
        raise refused("must be an object")
    kind = value.get("type")
    model = _WITNESS_MODELS.get(kind) if type(kind) is str else None
    if model is None:
        if "type" not in value:
            raise refused_at(("type",), "missing")
        raise refused_at(("type",), "must be 'native', 'imported' or 'unsigned'")
    if model is ImportedWitness and nesting_exceeds(value, MAX_NESTING):
        raise refused("nested too deeply")
    return model.model_validate(value)
