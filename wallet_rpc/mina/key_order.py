"""JavaScript's own-key order: integer-like keys first in ascending numeric order, then the rest.

A JavaScript object enumerates "array index" keys (canonical decimals below 2^32 - 1:
"2", "10", not "01" or "4294967295") first, then its other keys in insertion order.
The credential hash (what an issuer signs) and the stored form S (what a wallet
answers) both follow it; this module is the one place that says what the order is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ["MAX_ARRAY_INDEX", "in_javascript_order", "is_array_index", "javascript_key_order"]

MAX_ARRAY_INDEX = 2**32 - 2
_MAX_ARRAY_INDEX_DIGITS = len(str(MAX_ARRAY_INDEX))

Value = TypeVar("Value")


def is_array_index(key: str) -> bool:
    """Whether a JavaScript object enumerates key among its integer-like keys."""
    return (
        "0" <= key[:1] <= "9"
        and len(key) <= _MAX_ARRAY_INDEX_DIGITS
        and key.isascii()
        and key.isdigit()
        and (key[0] != "0" or len(key) == 1)
        and int(key) <= MAX_ARRAY_INDEX
    )


def javascript_key_order(keys: Iterable[str]) -> list[str]:
    """Keys in the order JavaScript's Object.entries gives them (ValueError for a non-string)."""
    index_keys: list[str] = []
    other_keys: list[str] = []
    for key in keys:
        if not isinstance(key, str):
            raise ValueError("object keys must be strings")
        (index_keys if is_array_index(key) else other_keys).append(key)
    if not index_keys:
        return other_keys
    index_keys.sort(key=int)
    return index_keys + other_keys


def in_javascript_order(obj: dict[str, Value]) -> dict[str, Value]:
    """obj with its keys in JavaScript's order: obj itself when it has no integer-like key."""
    index_keys = [key for key in obj if is_array_index(key)]
    if not index_keys:
        return obj
    index_keys.sort(key=int)
    ordered = {key: obj[key] for key in index_keys}
    for key, value in obj.items():
        if key not in ordered:
            ordered[key] = value
    return ordered
