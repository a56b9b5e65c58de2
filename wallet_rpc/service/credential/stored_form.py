"""The canonical form S (the stored bytes, as a JavaScript wallet writes them) and the dedup digest.

S is compact JSON (no whitespace, non-ASCII kept) with its top-level keys in the
order `version`, `witness`, `metadata` (only when present), `credential`, and
JavaScript's key order and numbers everywhere below: what JSON.stringify gives
for the object Auro Wallet holds.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from wallet_rpc.mina.key_order import in_javascript_order
from wallet_rpc.service.credential.js_number import JavaScriptNumber, javascript_number_text
from wallet_rpc.service.credential.json_tree import javascript_tree

__all__ = ["dedup_digest", "javascript_ordered_data", "stored_dedup_digest", "write_stored_form"]

# check_circular is off: MAX_NESTING already refuses any cycle.
_COMPACT = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
)
_CANONICAL = json.JSONEncoder(
    ensure_ascii=True,
    allow_nan=False,
    check_circular=False,
    separators=(",", ":"),
    sort_keys=True,
)


def _javascript_json(node: Any) -> str:
    """Compact JSON with every double in JavaScript's text; the rest as _COMPACT writes it."""
    kind = type(node)
    if kind is dict:
        members = (
            f"{_COMPACT.encode(key)}:{_javascript_json(value)}" for key, value in node.items()
        )
        return "{" + ",".join(members) + "}"
    if kind is list:
        return "[" + ",".join(_javascript_json(item) for item in node) + "]"
    if kind is float or kind is JavaScriptNumber:
        return javascript_number_text(node)
    return _COMPACT.encode(node)


def write_stored_form(document: dict[str, Any], rewritten: frozenset[str] = frozenset()) -> str:
    """S for a document already in S's key order and with JavaScript's numbers.

    json's own encoder writes every number as JavaScript does except some doubles
    (1e-7, 0.00001), which only a tree walk rewrote (javascript_tree): the parts
    named in `rewritten` are written number by number, the others by json alone.
    """
    if not rewritten:
        return _COMPACT.encode(document)
    members = (
        f"{_COMPACT.encode(key)}:"
        + (_javascript_json(value) if key in rewritten else _COMPACT.encode(value))
        for key, value in document.items()
    )
    return "{" + ",".join(members) + "}"


def javascript_ordered_data(data: dict[str, Any]) -> dict[str, Any]:
    """data in JavaScript key order, down into its Structs (the only values with free keys)."""
    changed: dict[str, Any] | None = None
    for key, value in data.items():
        if type(value) is dict and value.get("_type") == "Struct":
            ordered = javascript_tree(value)
            if ordered is not value:
                if changed is None:
                    changed = {}
                changed[key] = ordered
    if changed is not None:
        data = {key: changed.get(key, value) for key, value in data.items()}
    return in_javascript_order(data)


def dedup_digest(version: Any, witness: Any, credential: Any) -> str:
    """sha256 of the credential less its metadata, whatever its key order (as Auro's hash)."""
    unsigned_part = {"version": version, "witness": witness, "credential": credential}
    return hashlib.sha256(_CANONICAL.encode(unsigned_part).encode("ascii")).hexdigest()


def stored_dedup_digest(stored_json: str) -> str:
    """The dedup digest of a stored S, the same that parse_store_params gave when it was stored."""
    document = json.loads(stored_json)
    return dedup_digest(document["version"], document["witness"], document["credential"])
