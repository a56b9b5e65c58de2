"""The stored credential's model: {version, witness, metadata, credential}, in plain or Struct form.

As mina-attestations writes it (0.4 and 0.5): `credential` is `{owner, data}`,
or the o1js Struct form an imported credential's proof output takes. Stricter
than mina-attestations' own schema: no unknown keys anywhere outside `data`'s
keys and `metadata`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, model_validator

from wallet_rpc.service.credential.json_tree import MAX_NESTING, JsonTree, nesting_exceeds
from wallet_rpc.service.credential.refusals import refused
from wallet_rpc.service.credential.scalars import Strict
from wallet_rpc.service.credential.value_types import data_type
from wallet_rpc.service.credential.values import DataValue, PublicKeyValue, match_properties
from wallet_rpc.service.credential.witnesses import Witness, witness

__all__ = ["PlainCredential", "StoredCredential", "StructCredential"]


class PlainCredential(Strict):
    owner: PublicKeyValue
    data: dict[str, DataValue]


def _data_level_type(value: object) -> dict[str, Any]:
    """A type for one of data's values: a data type, not a record (data is flat)."""
    if type(value) is dict and "_type" not in value:
        raise refused("must be a type object with _type")
    return data_type(value)


class PublicKeyType(Strict):
    type_: Literal["PublicKey"] = Field(alias="_type")


class CredentialProperties(Strict):
    owner: PublicKeyType
    data: dict[str, Annotated[dict[str, Any], PlainValidator(_data_level_type)]]


class CredentialStructValue(Strict):
    owner: PublicKeyValue
    data: dict[str, DataValue]


class StructCredential(Strict):
    """The credential as an o1js Struct {owner, data}: the public output of an imported proof."""

    type_: Literal["Struct"] = Field(alias="_type")
    properties: CredentialProperties
    value: CredentialStructValue

    @model_validator(mode="after")
    def _data_matches_properties(self) -> StructCredential:
        match_properties(self.properties.data, self.value.data, ("value", "data"))
        return self


def _credential(value: object) -> PlainCredential | StructCredential:
    if type(value) is not dict:
        raise refused("must be an object")
    if "_type" in value:
        if nesting_exceeds(value, MAX_NESTING):
            raise refused("nested too deeply")
        return StructCredential.model_validate(value)
    return PlainCredential.model_validate(value)


class StoredCredential(Strict):
    version: Literal["v0"]
    witness: Annotated[Witness, PlainValidator(witness)]
    metadata: JsonTree = None
    credential: Annotated[PlainCredential | StructCredential, PlainValidator(_credential)]
