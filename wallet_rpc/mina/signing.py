"""Signing, as o1js's Signature.create does it: for tests, benchmarks and demo issuers.

The nonce is o1js's deriveNonce (blake2b over the message, the public key, the private
key and the network id 0 that Signature.create uses), so a signature made here is the
one o1js makes for the same key and message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from wallet_rpc.mina.credential_hash import credential_hash
from wallet_rpc.mina.curve import generator_mul
from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.keys import PublicKey, decode_public_key, encode_public_key
from wallet_rpc.mina.signature import signature_challenge

_FIELD_BITS = 255
_NETWORK_ID = 0  # o1js signs credentials with the "devnet"/"testnet" id, packed as 8 bits


class _Absent:
    def __repr__(self) -> str:
        return "absent"


absent: Final = _Absent()


def _check_private_key(private_key: int) -> None:
    if not isinstance(private_key, int) or not 0 < private_key < Q:
        raise ValueError("a private key is an integer in [1, Q)")


def public_key_of(private_key: int) -> PublicKey:
    _check_private_key(private_key)
    point = generator_mul(private_key)
    assert point is not None
    return PublicKey(x=point[0], is_odd=bool(point[1] & 1))


def derive_nonce(private_key: int, message: Sequence[int], public_point: tuple[int, int]) -> int:
    """o1js deriveNonce: blake2b-256 of the 255-bit little-endian encodings of
    [*message, pk.x, pk.y, private key, network id], top two bits cleared."""
    fields = [*message, public_point[0], public_point[1], private_key % P, _NETWORK_ID]
    packed = 0
    for index, field in enumerate(fields):
        packed |= field << (_FIELD_BITS * index)
    data = packed.to_bytes((_FIELD_BITS * len(fields) + 7) // 8, "little")
    digest = bytearray(hashlib.blake2b(data, digest_size=32).digest())
    digest[-1] &= 0x3F
    return int.from_bytes(digest, "little")


def sign(private_key: int, message: Sequence[int]) -> tuple[int, int]:
    """(r, s): the Mina Schnorr signature of message (field elements) by private_key."""
    _check_private_key(private_key)
    if any(not isinstance(field, int) or not 0 <= field < P for field in message):
        raise ValueError("message elements must be field elements")
    public_point = generator_mul(private_key)
    assert public_point is not None
    nonce = derive_nonce(private_key, message, public_point)
    nonce_point = generator_mul(nonce)
    if nonce_point is None:  # pragma: no cover - a blake2b output of 0 mod Q
        raise ValueError("degenerate nonce")
    r, nonce_y = nonce_point
    if nonce_y & 1:
        nonce = Q - nonce  # R.y must be even: use -k, whose point is (r, -y)
    public_key = PublicKey(x=public_point[0], is_odd=bool(public_point[1] & 1))
    e = signature_challenge(public_key, message, r)
    return r, (e * private_key + nonce) % Q


def sign_native_credential(
    issuer_private_key: int,
    owner: str,
    data: Mapping[str, Any],
    metadata: Any = absent,
) -> dict[str, Any]:
    """A complete stored native credential, as mina-attestations' Credential.sign and
    Credential.toJSON make it: data is the JSON of credential.data (serialized values)."""
    owner_key = decode_public_key(owner)
    issuer = public_key_of(issuer_private_key)
    r, s = sign(issuer_private_key, [credential_hash(owner_key, data)])
    stored: dict[str, Any] = {
        "version": "v0",
        "witness": {
            "type": "native",
            "issuer": {"_type": "PublicKey", "value": encode_public_key(issuer)},
            "issuerSignature": {"_type": "Signature", "value": {"r": str(r), "s": str(s)}},
        },
    }
    if metadata is not absent:
        stored["metadata"] = metadata
    stored["credential"] = {"owner": {"_type": "PublicKey", "value": owner}, "data": dict(data)}
    return stored
