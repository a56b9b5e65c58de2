"""B62 public keys: base58check decoding to a Pallas point's x and parity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from wallet_rpc.mina.field import P, is_square_mod_p, sqrt_mod_p

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}
_PUBLIC_KEY_VERSION = bytes([0xCB, 0x01, 0x01])
_PAYLOAD_LENGTH = 36
_CHECKSUM_LENGTH = 4


class InvalidPublicKey(ValueError):
    """The string is not a valid B62 public key; the message says why."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    x: int
    is_odd: bool

    def point(self) -> tuple[int, int]:
        """The affine point (x, y) on Pallas, with y of the recorded parity."""
        return _point_of(self.x, self.is_odd)


# Issuers and owners repeat from one credential to the next; the square root is
# the expensive part of both decoding a key and finding its point.
@lru_cache(maxsize=1024)
def _point_of(x: int, is_odd: bool) -> tuple[int, int]:
    y = sqrt_mod_p((x**3 + 5) % P)
    if y is None:
        raise InvalidPublicKey("not on the curve")
    if (y & 1) != int(is_odd):
        y = P - y
    return x, y


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise InvalidPublicKey("not base58")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def _double_sha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def encode_public_key(key: PublicKey) -> str:
    payload = _PUBLIC_KEY_VERSION + key.x.to_bytes(32, "little") + bytes([int(key.is_odd)])
    raw = payload + _double_sha256(payload)[:_CHECKSUM_LENGTH]
    number = int.from_bytes(raw, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58_ALPHABET[digit])
    leading_zeros = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(digits))


@lru_cache(maxsize=1024)
def decode_public_key(text: str) -> PublicKey:
    """Decode a B62 address, checking its version, checksum and that it is on the curve."""
    if not 40 <= len(text) <= 60:
        raise InvalidPublicKey("wrong length")
    raw = _base58_decode(text)
    if len(raw) != _PAYLOAD_LENGTH + _CHECKSUM_LENGTH:
        raise InvalidPublicKey("wrong length")
    payload, checksum = raw[:_PAYLOAD_LENGTH], raw[_PAYLOAD_LENGTH:]
    if _double_sha256(payload)[:_CHECKSUM_LENGTH] != checksum:
        raise InvalidPublicKey("bad checksum")
    if payload[:3] != _PUBLIC_KEY_VERSION:
        raise InvalidPublicKey("not a public key")
    x = int.from_bytes(payload[3:35], "little")
    parity = payload[35]
    if parity > 1:
        raise InvalidPublicKey("bad parity byte")
    if x >= P or not is_square_mod_p(x**3 + 5):
        raise InvalidPublicKey("not on the curve")
    return PublicKey(x=x, is_odd=bool(parity))
