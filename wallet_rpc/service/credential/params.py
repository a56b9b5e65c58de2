"""mina_storePrivateCredential's params: from the request to a ValidCredential or a refusal.

Every refusal is an `InvalidParams` whose data names the field and the reason
(refusals); nothing else leaves this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from wallet_rpc.errors import InvalidParams
from wallet_rpc.service.credential.json_tree import javascript_tree
from wallet_rpc.service.credential.model import PlainCredential, StoredCredential
from wallet_rpc.service.credential.refusals import first_error, invalid, surrogate_path
from wallet_rpc.service.credential.stored_form import (
    dedup_digest,
    javascript_ordered_data,
    write_stored_form,
)
from wallet_rpc.service.credential.values import UInt64Value
from wallet_rpc.service.credential.witnesses import ImportedWitness, NativeWitness

__all__ = ["ValidCredential", "WitnessType", "parse_store_params"]

_logger = logging.getLogger(__name__)

WitnessType = Literal["native", "imported", "unsigned"]


@dataclass(frozen=True, slots=True)
class ValidCredential:
    """A credential that passed every structural check, in the form it is stored and answered."""

    stored_json: str
    """S: compact JSON, non-ASCII kept, top-level keys version, witness, metadata, credential."""
    document: dict[str, Any]
    """The credential as a JSON object in S's key order, with S's numbers (what a signature
    checker hashes).

    Parts that needed no change are the params' own objects: neither is to be changed.
    """
    dedup_key: str
    """Hex sha256 of the credential less its metadata, whatever its key order."""
    owner: str
    witness_type: WitnessType
    issuer: str | None
    expires_at_ms: int | None


def _credential_params(params: object) -> object:
    if type(params) is dict:
        for key in params:
            if key != "credential":
                raise InvalidParams(
                    data={"field": "params", "reason": "unknown key; expected only credential"}
                )
        if "credential" not in params:
            raise invalid((), "missing")
        return params["credential"]
    if type(params) is list:
        if len(params) != 1:
            raise InvalidParams(
                data={"field": "params", "reason": "must hold exactly one credential"}
            )
        return params[0]
    raise InvalidParams(data={"field": "params", "reason": "must be an object or an array"})


def _build(credential: dict[str, Any], max_credential_bytes: int) -> ValidCredential:
    try:
        model = StoredCredential.model_validate(credential)
    except ValidationError as error:
        raise first_error(error) from None

    witness = credential["witness"]
    if isinstance(model.witness, ImportedWitness):
        witness = javascript_tree(witness)
    inner = credential["credential"]
    if isinstance(model.credential, PlainCredential):
        data = inner["data"]
        ordered_data = javascript_ordered_data(data)
        if ordered_data is not data:
            inner = {key: ordered_data if key == "data" else value for key, value in inner.items()}
        owner = model.credential.owner.value
        typed_data = model.credential.data
    else:
        inner = javascript_tree(inner)
        owner = model.credential.value.owner.value
        typed_data = model.credential.value.data

    document: dict[str, Any] = {"version": credential["version"], "witness": witness}
    if "metadata" in credential:
        document["metadata"] = model.metadata
    document["credential"] = inner

    # The tree walks copy what they change: a part that is not the params' own object
    # may hold a number only S's number-by-number writer writes as JavaScript does.
    rewritten = frozenset(key for key, part in document.items() if part is not credential[key])
    stored_json = write_stored_form(document, rewritten)
    if stored_json.isascii():
        size = len(stored_json)
    else:
        try:
            size = len(stored_json.encode("utf-8"))
        except UnicodeEncodeError:
            path = surrogate_path(document, []) or []
            raise invalid(path, "not valid Unicode (lone surrogate)") from None
    if size > max_credential_bytes:
        raise invalid((), f"larger than {max_credential_bytes} bytes")

    expires_at = typed_data.get("expiresAt")
    return ValidCredential(
        stored_json=stored_json,
        document=document,
        dedup_key=dedup_digest(document["version"], witness, inner),
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
        raise invalid((), reason or "must be an object")
    try:
        return _build(credential, max_credential_bytes)
    except InvalidParams:
        raise
    except Exception:
        # Every refusal above is an InvalidParams; reaching this is a defect, logged as one.
        # The client still gets the answer its input deserves: its params were not accepted.
        _logger.exception("credential validation failed unexpectedly")
        raise invalid((), "could not be validated") from None
