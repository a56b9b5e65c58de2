"""The credential mina_storePrivateCredential stores: its checks, its stored form S, its refusals.

scalars      decimal strings in range, B62 keys, base64, hex; the strict model
js_number    JSON numbers as JavaScript reads and writes them
json_tree    free-form JSON (metadata, constants) as JavaScript holds it
values       serialized o1js values and what data holds
value_types  the types a Struct's properties declare
witnesses    native, imported and unsigned witnesses
model        the stored credential {version, witness, metadata, credential}
stored_form  S's bytes and the dedup digest
refusals     how a wrong part becomes the client's InvalidParams
params       parse_store_params: the request's params to a ValidCredential
"""

from wallet_rpc.service.credential.model import PlainCredential, StoredCredential, StructCredential
from wallet_rpc.service.credential.params import ValidCredential, WitnessType, parse_store_params
from wallet_rpc.service.credential.stored_form import stored_dedup_digest
from wallet_rpc.service.credential.witnesses import (
    ImportedWitness,
    NativeWitness,
    UnsignedWitness,
)

__all__ = [
    "ImportedWitness",
    "NativeWitness",
    "PlainCredential",
    "StoredCredential",
    "StructCredential",
    "UnsignedWitness",
    "ValidCredential",
    "WitnessType",
    "parse_store_params",
    "stored_dedup_digest",
]
