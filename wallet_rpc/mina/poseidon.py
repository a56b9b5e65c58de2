"""Poseidon over Fp with kimchi's parameters, as o1js's `Poseidon` computes it.

State of 3 field elements, rate 2, 55 full rounds (S-box x^7, then the MDS matrix,
then the round constants), no partial rounds. The constants ship with the package
(poseidon_kimchi_fp.json, from o1js's poseidonParamsKimchiFp).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from wallet_rpc.mina.field import P_FAST, P, fast, power_each_mod

State = tuple[int, int, int]

_RATE = 2
_CHUNK_BYTES = 31  # o1js packs bytes 8 bits at a time while the sum stays below 255 bits


def _load_parameters() -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    text = resources.files(__package__).joinpath("poseidon_kimchi_fp.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    expected = {
        "fullRounds": 55,
        "partialRounds": 0,
        "hasInitialRoundConstant": False,
        "stateSize": 3,
        "rate": _RATE,
        "power": 7,
    }
    for key, value in expected.items():
        if raw[key] != value:  # pragma: no cover - guards against a wrong data file
            raise RuntimeError(f"poseidon_kimchi_fp.json: {key} is {raw[key]!r}")
    mds = tuple(tuple(fast(int(entry)) for entry in row) for row in raw["mds"])
    constants = tuple(tuple(fast(int(entry)) for entry in row) for row in raw["roundConstants"])
    if len(constants) != 55 or len(mds) != 3 or any(len(row) != 3 for row in (*mds, *constants)):
        raise RuntimeError("poseidon_kimchi_fp.json: wrong shape")  # pragma: no cover
    return mds, constants


_MDS, _ROUND_CONSTANTS = _load_parameters()

# The MDS product runs on three lanes packed in one integer, 512 bits apart (each lane
# stays below 3 P^2 + P < 2^510): three multiplications by a packed column and one
# addition of the packed round constants replace nine multiplications, nine additions
# and three reductions. The lanes go into the next S-box unreduced; the S-box reduces.
_LANE_BITS = 512
_LANE_MASK = fast((1 << _LANE_BITS) - 1)


def _packed_column(column: int) -> int:
    return fast(sum(int(_MDS[row][column]) << (_LANE_BITS * row) for row in range(3)))


def _packed_constants(constants: tuple[int, ...]) -> int:
    return fast(sum(int(constant) << (_LANE_BITS * row) for row, constant in enumerate(constants)))


_MDS_COLUMNS = tuple(_packed_column(column) for column in range(3))
_PACKED_ROUND_CONSTANTS = tuple(_packed_constants(row) for row in _ROUND_CONSTANTS)


def _permute(a: int, b: int, c: int) -> State:
    """The permutation on hot-loop integers; inputs may be unreduced."""
    p = P_FAST
    mask = _LANE_MASK
    column0, column1, column2 = _MDS_COLUMNS
    for constants in _PACKED_ROUND_CONSTANTS:
        a, b, c = power_each_mod((a, b, c), 7, p)
        lanes = a * column0 + b * column1 + c * column2 + constants
        a = lanes & mask
        b = (lanes >> _LANE_BITS) & mask
        c = lanes >> (2 * _LANE_BITS)
    return a % p, b % p, c % p


def _permute_by_rows(a: int, b: int, c: int) -> State:
    """The permutation written as the definition reads; tests compare it with _permute."""
    p = P_FAST
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = _MDS
    for r0, r1, r2 in _ROUND_CONSTANTS:
        a, b, c = pow(a, 7, p), pow(b, 7, p), pow(c, 7, p)
        a, b, c = (
            (m00 * a + m01 * b + m02 * c + r0) % p,
            (m10 * a + m11 * b + m12 * c + r1) % p,
            (m20 * a + m21 * b + m22 * c + r2) % p,
        )
    return a, b, c


_INTEGER_TYPES = (int, type(P_FAST))


def _check_fields(fields: Iterable[int]) -> list[int]:
    checked = []
    for field in fields:
        if not isinstance(field, _INTEGER_TYPES) or not 0 <= field < P:
            raise ValueError(f"not a field element: {field!r}")
        checked.append(fast(field))
    return checked


def _absorb(state: State, fields: Sequence[int]) -> State:
    """o1js Poseidon.update on hot-loop integers (fields already checked)."""
    a, b, c = state
    if not fields:
        return _permute(a, b, c)
    count = len(fields)
    for index in range(0, count - 1, _RATE):
        a, b, c = _permute(a + fields[index], b + fields[index + 1], c)
    if count % _RATE:
        a, b, c = _permute(a + fields[-1], b, c)
    return a, b, c


_INITIAL_STATE: State = (fast(0), fast(0), fast(0))


def permutation(state: State) -> State:
    """The Poseidon permutation of a state of three field elements."""
    a, b, c = _check_fields(state)
    a, b, c = _permute(a, b, c)
    return int(a), int(b), int(c)


def update(state: State, fields: Sequence[int]) -> State:
    """Absorb fields into state: one permutation for an empty list, else one per pair
    (an odd list is padded with a zero)."""
    a, b, c = _check_fields(state)
    a, b, c = _absorb((a, b, c), _check_fields(fields))
    return int(a), int(b), int(c)


def hash(fields: Sequence[int]) -> int:
    """Poseidon.hash: absorb fields into the zero state and return its first element."""
    return int(_absorb(_INITIAL_STATE, _check_fields(fields))[0])


def prefix_to_field(prefix: str) -> int:
    """The ASCII bytes of prefix read as a little-endian integer (at most 31 bytes)."""
    data = prefix.encode("ascii")
    if len(data) > _CHUNK_BYTES:
        raise ValueError("prefix too long")
    return int.from_bytes(data, "little")


@lru_cache(maxsize=64)
def _salt(prefix: str) -> State:
    return _absorb(_INITIAL_STATE, [fast(prefix_to_field(prefix))])


def salt(prefix: str) -> State:
    """The state after absorbing the prefix: where hash_with_prefix starts."""
    a, b, c = _salt(prefix)
    return int(a), int(b), int(c)


def hash_with_prefix(prefix: str, fields: Sequence[int]) -> int:
    """Poseidon.hashWithPrefix: absorb [prefix_to_field(prefix)], then fields."""
    return int(_absorb(_salt(prefix), _check_fields(fields))[0])


def hash_safe(fields: Sequence[int]) -> int:
    """mina-attestations' hashSafe: a prefix per length class ("zero", "even", "odd_")
    so that zero-padding cannot make two lists collide."""
    count = len(fields)
    prefix = "zero" if count == 0 else "even" if count % 2 == 0 else "odd_"
    return hash_with_prefix(prefix, fields)


def pack_bytes(data: bytes) -> list[int]:
    """Bytes as field elements, 31 bytes each, little-endian (o1js toFieldsPacked)."""
    return [
        int.from_bytes(data[start : start + _CHUNK_BYTES], "little")
        for start in range(0, len(data), _CHUNK_BYTES)
    ]


def hash_length_prefixed_bytes(data: bytes) -> int:
    """Hash of the 4-byte little-endian length followed by data, packed 31 bytes a field.

    The hash of a string (of its UTF-8 bytes) and of DynamicBytes/DynamicString values.
    """
    if len(data) >= 1 << 32:
        raise ValueError("too long to hash")
    return hash(pack_bytes(len(data).to_bytes(4, "little") + data))


def utf8_as_javascript(text: str) -> bytes:
    """UTF-8 bytes of text as JavaScript's TextEncoder gives them: a surrogate pair
    becomes its code point and a lone surrogate becomes U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        as_utf16 = text.encode("utf-16-le", "surrogatepass")
        return as_utf16.decode("utf-16-le", "replace").encode("utf-8")


def hash_string(text: str) -> int:
    """mina-attestations' hashString: hash of (UTF-8 length, UTF-8 bytes)."""
    return hash_length_prefixed_bytes(utf8_as_javascript(text))
