"""A credential as a person reads it before approving: owner, issuer, and each data value.

Serialized o1js values become what they mean: an Int64 a signed number, Bytes
hex with their size, a timestamp (by its field name) also a date. Used by the
approval page and by `wallet-rpc approvals list`. It never fails: whatever is
stored is shown, unknown shapes as compact JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Field names that say "this number is a moment": expiresAt, issued_at, birthDate, validUntil.
_MOMENT_NAME = re.compile(r"(?i:date|time|birth|expir|issued|valid)|(?:At|_at)$")
_MOMENT_TYPES = frozenset({"UInt64", "Int64"})
# datetime's own range, in milliseconds either side of 1970.
_LATEST_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)
_EARLIEST_MS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp() * 1000)
_DECIMAL_TYPES = frozenset({"Field", "UInt8", "UInt32", "UInt64"})


@dataclass(frozen=True, slots=True)
class ValueView:
    """One value of `data` (or of a Struct inside it), ready to be shown."""

    name: str
    type_name: str
    text: str
    # What the bare text does not say: the date of a timestamp, the size of Bytes.
    note: str | None = None
    members: tuple[ValueView, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"name": self.name, "type": self.type_name, "text": self.text}
        if self.note is not None:
            shown["note"] = self.note
        if self.members:
            shown["members"] = [member.as_json() for member in self.members]
        return shown

    def lines(self, indent: str = "") -> list[str]:
        note = f"  ({self.note})" if self.note else ""
        head = f"{indent}{self.name}: {self.text}" if self.text else f"{indent}{self.name}:"
        own = [f"{head}  [{self.type_name}]{note}"]
        for member in self.members:
            own.extend(member.lines(indent + "  "))
        return own


@dataclass(frozen=True, slots=True)
class CredentialView:
    owner: str
    witness: str
    issuer: str | None
    data: tuple[ValueView, ...]
    metadata: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "witness": self.witness,
            "issuer": self.issuer,
            "data": [value.as_json() for value in self.data],
            "metadata": self.metadata,
        }

    def lines(self) -> list[str]:
        shown = [f"owner:   {self.owner}", f"witness: {self.witness}"]
        if self.issuer is not None:
            shown.append(f"issuer:  {self.issuer}")
        shown.append("data:")
        for value in self.data:
            shown.extend(value.lines("  "))
        if self.metadata is not None:
            shown.append(f"metadata: {self.metadata}")
        return shown


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _compact(value)


def _int(text: Any) -> int | None:
    if isinstance(text, str) and re.fullmatch(r"-?[0-9]{1,80}", text):
        return int(text)
    return None


def _moment(milliseconds: int) -> str | None:
    if not _EARLIEST_MS <= milliseconds <= _LATEST_MS:
        return None
    moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _int64_text(value: Any) -> str:
    if isinstance(value, Mapping):
        magnitude = _int(value.get("magnitude"))
        if magnitude is None or value.get("sgn") not in ("Positive", "Negative"):
            return _compact(value)
        return str(-magnitude if value.get("sgn") == "Negative" else magnitude)
    number = _int(value)
    return _text(value) if number is None else str(number)


def _bytes_note(value: Any, size: Any, max_length: Any = None) -> str | None:
    if not isinstance(value, str):
        return None
    count = len(value) // 2
    if max_length is not None:
        return f"{count} of at most {max_length} bytes"
    if isinstance(size, int):
        return f"{size} bytes"
    return f"{count} bytes"


def describe_value(name: str, value: Any) -> ValueView:
    if isinstance(value, str):
        return ValueView(name, "String", value)
    if not isinstance(value, Mapping) or not isinstance(value.get("_type"), str):
        if isinstance(value, Mapping):  # a nested record inside a Struct
            members = tuple(describe_value(str(key), inner) for key, inner in value.items())
            return ValueView(name, "Record", "", members=members)
        return ValueView(name, "JSON", _compact(value))
    kind: str = value["_type"]
    inner = value.get("value")
    if kind == "Int64":
        text = _int64_text(inner)
    elif kind in _DECIMAL_TYPES or kind in ("PublicKey", "DynamicString"):
        text = _text(inner)
    elif kind == "Bool":
        text = "true" if inner is True else "false" if inner is False else _text(inner)
    elif kind == "Bytes":
        return ValueView(name, kind, _text(inner), _bytes_note(inner, value.get("size")))
    elif kind == "DynamicBytes":
        note = _bytes_note(inner, None, value.get("maxLength"))
        return ValueView(name, kind, _text(inner), note)
    elif kind == "Signature" and isinstance(inner, Mapping):
        text = f"r={_text(inner.get('r'))} s={_text(inner.get('s'))}"
    elif kind == "Struct" and isinstance(inner, Mapping):
        members = tuple(describe_value(str(key), member) for key, member in inner.items())
        return ValueView(name, kind, "", members=members)
    else:
        return ValueView(name, kind, _text(inner))
    note = None
    number = _int(text)
    if kind in _MOMENT_TYPES and number is not None and _MOMENT_NAME.search(name):
        note = _moment(number)
    return ValueView(name, kind, text, note)


def _public_key(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("value"), str):
        return str(value["value"])
    return _text(value) if value is not None else "(none)"


def _witness(witness: Any) -> tuple[str, str | None]:
    if not isinstance(witness, Mapping):
        return "(none)", None
    kind = witness.get("type")
    if kind == "native":
        return "native: signed by its issuer", _public_key(witness.get("issuer"))
    if kind == "imported":
        return "imported: a zero-knowledge proof", None
    if kind == "unsigned":
        return "unsigned", None
    return _text(kind), None


def describe_credential(document: Any) -> CredentialView:
    """The readable form of a stored credential (`{version, witness, metadata?, credential}`)."""
    if not isinstance(document, Mapping):
        return CredentialView(
            "(none)", "(none)", None, (ValueView("value", "JSON", _text(document)),), None
        )
    body = document.get("credential")
    # The o1js Struct form of the credential keeps owner and data under "value".
    if isinstance(body, Mapping) and body.get("_type") == "Struct":
        body = body.get("value")
    body = body if isinstance(body, Mapping) else {}
    data = body.get("data")
    if isinstance(data, Mapping):
        values = tuple(describe_value(str(key), value) for key, value in data.items())
    else:
        values = () if data is None else (ValueView("data", "JSON", _compact(data)),)
    witness, issuer = _witness(document.get("witness"))
    metadata = _compact(document["metadata"]) if "metadata" in document else None
    return CredentialView(_public_key(body.get("owner")), witness, issuer, values, metadata)


def describe_credential_json(text: str | None) -> CredentialView | None:
    if text is None:
        return None
    try:
        return describe_credential(json.loads(text))
    except ValueError:
        return CredentialView("(none)", "(none)", None, (ValueView("value", "JSON", text),), None)
