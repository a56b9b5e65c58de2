"""The hash mina-attestations signs for a native credential, from the credential's JSON.

credHash = Poseidon.hash([Poseidon.hash([owner.x, owner.isOdd]), hashRecord(data)]), where
hashRecord hashes, in JavaScript's Object.entries order, hashString(key) and the value
packed into one field element the way mina-attestations' packToField does for the type
the value was serialized as (mina-attestations 0.5 / o1js 2).

The less obvious behaviours were established by running the library: a Struct hashes
its values in the order of its `properties`, "__proto__" keys are not hashed, a
Signature packs as [r, t >> 1, t & 1] for its shifted scalar t, and DynamicBytes shorter
than their maxLength never validate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from wallet_rpc.mina import poseidon
from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.key_order import javascript_key_order
from wallet_rpc.mina.keys import PublicKey, decode_public_key

_DECIMAL = re.compile(r"[0-9]{1,80}")
_SIGNED_DECIMAL = re.compile(r"-?[0-9]{1,80}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_MAX_NESTING = 32
_CACHED_KEY_LENGTH = 64
_INT64_POSITIVE = 1 << 64


# Data keys repeat from one credential to the next ("name", "expiresAt", ...); each
# hashString costs a Poseidon permutation. Long keys are not worth keeping.
_cached_key_hash = lru_cache(maxsize=4096)(poseidon.hash_string)


def _key_hash(key: str) -> int:
    if len(key) <= _CACHED_KEY_LENGTH:
        return _cached_key_hash(key)
    return poseidon.hash_string(key)


@lru_cache(maxsize=1024)
def owner_hash(owner: PublicKey) -> int:
    """Poseidon.hash(owner.toFields()): the owner's part of the credential hash."""
    return poseidon.hash([owner.x, int(owner.is_odd)])


def _decimal(value: Any, limit: int, what: str) -> int:
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise ValueError(f"{what} must be a decimal string")
    number = int(value)
    if number >= limit:
        raise ValueError(f"{what} out of range")
    return number


def _hex_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or _HEX.fullmatch(value) is None:
        raise ValueError(f"{what} must be hex")
    return bytes.fromhex(value)


def _max_length(serialized: Mapping[str, Any], what: str) -> int:
    limit = serialized.get("maxLength")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"{what}: maxLength must be a non-negative integer")
    return limit


def _int64_field(value: Any) -> int:
    """Int64 packs as magnitude + 2^64 * isPositive, in either serialized form."""
    if isinstance(value, str):
        if _SIGNED_DECIMAL.fullmatch(value) is None:
            raise ValueError("Int64 must be a signed decimal string")
        magnitude = int(value.removeprefix("-"))
        positive = not value.startswith("-") or magnitude == 0
    elif isinstance(value, Mapping):
        magnitude = _decimal(value.get("magnitude"), _INT64_POSITIVE, "Int64 magnitude")
        sign = value.get("sgn")
        if sign not in ("Positive", "Negative"):
            raise ValueError("Int64 sgn must be Positive or Negative")
        positive = sign == "Positive"
    else:
        raise ValueError("Int64 must be a string or {magnitude, sgn}")
    if magnitude >= _INT64_POSITIVE:
        raise ValueError("Int64 out of range")
    return magnitude + _INT64_POSITIVE if positive else magnitude


def _string_value(serialized: Mapping[str, Any], what: str) -> str:
    text = serialized.get("value")
    if not isinstance(text, str):
        raise ValueError(f"{what} value must be a string")
    return text


def _signature_fields(value: Any) -> list[int]:
    """o1js packs a Signature as [r, t >> 1, t & 1] with t = s - 2^255 mod Q (its
    shifted scalar); established by running o1js."""
    if not isinstance(value, Mapping):
        raise ValueError("Signature value must be {r, s}")
    r = _decimal(value.get("r"), P, "Signature r")
    s = _decimal(value.get("s"), Q, "Signature s")
    shifted = (s - (1 << 255)) % Q
    return [r, shifted >> 1, shifted & 1]


def _serialized_field(serialized: Mapping[str, Any], depth: int) -> int:
    """packToField of a serialized o1js value ({"_type": ..., "value": ...})."""
    kind = serialized.get("_type")
    value = serialized.get("value")
    if kind == "Field":
        return _decimal(value, P, "Field")
    if kind == "Bool":
        if not isinstance(value, bool):
            raise ValueError("Bool value must be true or false")
        return int(value)
    if kind == "UInt8":
        return _decimal(value, 1 << 8, "UInt8")
    if kind == "UInt32":
        return _decimal(value, 1 << 32, "UInt32")
    if kind == "UInt64":
        return _decimal(value, 1 << 64, "UInt64")
    if kind == "Int64":
        return _int64_field(value)
    if kind == "String":
        return poseidon.hash_string(_string_value(serialized, "String"))
    if kind == "DynamicString":
        data = poseidon.utf8_as_javascript(_string_value(serialized, "DynamicString"))
        if len(data) > _max_length(serialized, "DynamicString"):
            raise ValueError("DynamicString longer than its maxLength")
        return poseidon.hash_length_prefixed_bytes(data)
    if kind == "DynamicBytes":
        data = _hex_bytes(value, "DynamicBytes")
        # mina-attestations 0.5 cannot read back DynamicBytes shorter than maxLength
        # ("input has to match maxLength"), so such a credential never validates
        if len(data) != _max_length(serialized, "DynamicBytes"):
            raise ValueError("DynamicBytes must be exactly maxLength bytes")
        return poseidon.hash_length_prefixed_bytes(data)
    if kind == "PublicKey":
        if not isinstance(value, str):
            raise ValueError("PublicKey value must be a string")
        key = decode_public_key(value)
        return poseidon.hash_with_prefix("even", [key.x, int(key.is_odd)])
    if kind == "Signature":
        return poseidon.hash_safe(_signature_fields(value))
    if kind == "Bytes":
        size = serialized.get("size")
        data = _hex_bytes(value, "Bytes")
        if not isinstance(size, int) or isinstance(size, bool) or len(data) != size:
            raise ValueError("Bytes value does not have its size")
        fields = poseidon.pack_bytes(data)
        return fields[0] if len(fields) == 1 else poseidon.hash_safe(fields)
    if kind == "Undefined":
        if value is not None:
            raise ValueError("Undefined value must be null")
        return poseidon.hash_safe([])
    if kind == "Struct":
        return _struct_hash(serialized, depth)
    raise ValueError(f"cannot hash a value of type {kind!r}")


def _value_field(value: Any, depth: int, in_struct: bool) -> int:
    if isinstance(value, str):
        return poseidon.hash_string(value)
    if isinstance(value, Mapping) and "_type" in value:
        return _serialized_field(value, depth)
    if isinstance(value, Mapping):
        # A Struct's value may nest plain objects (for nested properties); they hash as
        # records. mina-attestations' schema refuses them directly in data.
        if not in_struct:
            raise ValueError("nested objects need a _type")
        return _record_hash(value, value.__getitem__, depth, in_struct)
    raise ValueError(f"cannot hash a raw JSON {type(value).__name__}")


def pack_to_field(value: Any) -> int:
    """mina-attestations' packToField of one value of credential.data as serialized:
    a plain string or {"_type": ..., ...}; ValueError for anything else."""
    return _value_field(value, 0, in_struct=False)


def _record_hash(
    keys: Iterable[str], value_of: Callable[[str], Any], depth: int, in_struct: bool
) -> int:
    """Poseidon.hash of [hashString(key), packToField(value)] in JavaScript's order.

    mina-attestations copies each object key by key into a fresh JavaScript object,
    where assigning "__proto__" sets the prototype instead of adding an entry: such a
    key is not part of the hash (checked against the library).
    """
    if depth > _MAX_NESTING:
        raise ValueError("nested too deeply")
    fields: list[int] = []
    for key in javascript_key_order(keys):
        if key == "__proto__":
            continue
        fields.append(_key_hash(key))
        fields.append(_value_field(value_of(key), depth + 1, in_struct))
    return poseidon.hash(fields)


def _struct_hash(serialized: Mapping[str, Any], depth: int) -> int:
    """A Struct hashes as the record of its values in the order of its properties:
    mina-attestations builds the struct from `properties`' keys (keys of `value` that
    `properties` does not name are ignored, as the library does)."""
    properties = serialized.get("properties")
    value = serialized.get("value")
    if not isinstance(properties, Mapping) or not isinstance(value, Mapping):
        raise ValueError("Struct needs properties and value objects")

    def value_of(key: str) -> Any:
        if key not in value:
            raise ValueError(f"Struct value misses {key!r}")
        return value[key]

    return _record_hash(properties, value_of, depth, in_struct=True)


def hash_record(data: Mapping[str, Any]) -> int:
    """mina-attestations' hashRecord of a JSON object as received (serialized values)."""
    if not isinstance(data, Mapping):
        raise ValueError("data must be an object")
    if "_type" in data:
        if data.get("_type") != "Struct":
            raise ValueError("data must be an object or a Struct")
        return _struct_hash(data, 0)
    return _record_hash(data, data.__getitem__, 0, in_struct=False)


def credential_hash(owner: PublicKey, data: Mapping[str, Any]) -> int:
    """The credential hash a native credential's issuer signs.

    data is credential.data exactly as received (a dict in document order); raises
    ValueError for anything mina-attestations would not hash.
    """
    return poseidon.hash([owner_hash(owner), hash_record(data)])
