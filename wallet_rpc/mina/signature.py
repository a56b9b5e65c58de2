"""Mina Schnorr signatures on Pallas, and the issuer signature of native credentials.

A signature (r, s) on message (field elements) by public key PK is valid iff
R = s*G - e*PK is not infinity, R.x == r and R.y is even, where
e = Poseidon.hashWithPrefix("CodaSignature*******", [*message, PK.x, PK.y, r]) read as a
scalar, r < P and s < Q. o1js's Signature (which mina-attestations uses) hard-codes this
prefix whatever the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wallet_rpc.mina import poseidon
from wallet_rpc.mina.credential_hash import credential_hash
from wallet_rpc.mina.curve import generator_mul, generator_mul_add_jacobian
from wallet_rpc.mina.field import P_FAST, P, Q, inverse_mod_p
from wallet_rpc.mina.keys import PublicKey, decode_public_key

SIGNATURE_PREFIX = "CodaSignature*******"

_DECIMAL = re.compile(r"[0-9]{1,80}")


def precompute_tables() -> None:
    """Build the generator table now (about 25 ms) rather than in the first verification."""
    generator_mul(1)


def signature_challenge(public_key: PublicKey, message: Sequence[int], r: int) -> int:
    """e, the hash that the signature's s answers (a field element used as a scalar)."""
    x, y = public_key.point()
    return poseidon.hash_with_prefix(SIGNATURE_PREFIX, [*message, x, y, r])


def verify_signature(public_key: PublicKey, message: Sequence[int], r: int, s: int) -> bool:
    """Is (r, s) public_key's signature on message (a list of field elements)?"""
    if not (0 <= r < P and 0 <= s < Q):
        return False
    try:
        point = public_key.point()
    except ValueError:  # a PublicKey built by hand with an x that is not on the curve
        return False
    e = signature_challenge(public_key, message, r)
    x, y, z = generator_mul_add_jacobian(s, Q - e, point)
    if not z:
        return False
    # affine x = X / Z^2 must equal r; compare without inverting first
    zz = z * z % P_FAST
    if x != r * zz % P_FAST:
        return False
    affine_y = y * inverse_mod_p(zz * z % P_FAST) % P_FAST
    return not affine_y & 1


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object")
    return value


def _serialized(value: Any, kind: str, what: str) -> Any:
    serialized = _object(value, what)
    if serialized.get("_type") != kind:
        raise ValueError(f"{what} must be a serialized {kind}")
    return serialized.get("value")


def _public_key(value: Any, what: str) -> PublicKey:
    text = _serialized(value, "PublicKey", what)
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a B62 string")
    return decode_public_key(text)


def _decimal(value: Any, what: str) -> int:
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise ValueError(f"{what} must be a decimal string")
    return int(value)


def _owner_and_data(credential: Any) -> tuple[PublicKey, Mapping[str, Any]]:
    """credential.owner and credential.data, also from the Struct form of credential."""
    body = _object(credential, "credential")
    if "_type" in body:
        if body.get("_type") != "Struct":
            raise ValueError("credential must be an object or a Struct")
        properties = _object(body.get("properties"), "credential.properties")
        body = _object(body.get("value"), "credential.value")
        if "owner" not in properties or "data" not in properties:
            raise ValueError("credential Struct must declare owner and data")
    if "owner" not in body or "data" not in body:
        raise ValueError("credential needs owner and data")
    return _public_key(body["owner"], "owner"), _object(body["data"], "data")


def verify_native_credential(credential: Mapping[str, Any]) -> bool:
    """Does the issuer signature of a stored native credential
    ({"version": "v0", "witness": {"type": "native", ...}, "credential": ...}) verify?

    False, never an exception, for anything else: another witness type, a value the
    credential hash cannot encode, r >= P, s >= Q, a signature that does not verify.
    """
    try:
        document = _object(credential, "credential document")
        if document.get("version") != "v0":
            return False
        witness = _object(document.get("witness"), "witness")
        if witness.get("type") != "native":
            return False
        issuer = _public_key(witness.get("issuer"), "issuer")
        signature = _object(_serialized(witness.get("issuerSignature"), "Signature", "sig"), "sig")
        r = _decimal(signature.get("r"), "r")
        s = _decimal(signature.get("s"), "s")
        if r >= P or s >= Q:
            return False
        owner, data = _owner_and_data(document.get("credential"))
        message = [credential_hash(owner, data)]
    except ValueError:
        return False
    return verify_signature(issuer, message, r, s)
