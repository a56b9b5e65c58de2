"""Refusal reasons: how a wrong part of a credential becomes the InvalidParams a client gets.

Every refusal names the field and the reason in our own words only: never the
input, never a library's message.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from wallet_rpc.errors import InvalidParams

__all__ = [
    "Refusal",
    "first_error",
    "invalid",
    "refused",
    "refused_at",
    "surrogate_path",
]

# Field names in errors stay short: they name a part of the input, never echo it.
_KEY_NAME_LIMIT = 64
_FIELD_NAME_LIMIT = 200

_OUR_REASON = "wallet_invalid"
_PYDANTIC_REASONS = {
    "missing": "missing",
    "string_unicode": "not valid Unicode (lone surrogate)",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be a boolean",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "greater_than_equal": "out of range",
    "less_than_equal": "out of range",
    "recursion_loop": "nested too deeply",
}


class Refusal(Exception):
    """A refusal found outside pydantic; `path` is filled in as the error unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str | int] = []


def refused(reason: str) -> PydanticCustomError:
    """The error that refuses the value a pydantic validator is looking at."""
    return PydanticCustomError(_OUR_REASON, reason)


def refused_at(loc: tuple[str | int, ...], reason: str) -> ValidationError:
    """The error that refuses a part below the value being validated (pydantic prefixes our
    loc with its own)."""
    return ValidationError.from_exception_data(
        "credential",
        [InitErrorDetails(type=PydanticCustomError(_OUR_REASON, reason), loc=loc, input=None)],
    )


def _field_name(path: list[str | int] | tuple[str | int, ...]) -> str:
    """A dotted name of the refused part; keys are cut short and made printable."""
    name = "credential"
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a dict key (not part of the path)
            if len(part) > _KEY_NAME_LIMIT:
                part = part[:_KEY_NAME_LIMIT] + "..."
            name += "." + part.encode("utf-8", "backslashreplace").decode("utf-8")
        if len(name) > _FIELD_NAME_LIMIT:
            return name[:_FIELD_NAME_LIMIT] + "..."
    return name


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == _OUR_REASON:
        return str(error["msg"])
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']}"
    return _PYDANTIC_REASONS.get(kind, "invalid value")


def invalid(path: list[str | int] | tuple[str | int, ...], reason: str) -> InvalidParams:
    """The error for the part of the credential at path."""
    return InvalidParams(data={"field": _field_name(path), "reason": reason})


def first_error(error: ValidationError) -> InvalidParams:
    """The error for the first part pydantic refused."""
    first = error.errors(include_url=False, include_context=True, include_input=False)[0]
    return invalid(first["loc"], _reason(first))


def surrogate_path(node: Any, path: list[str | int]) -> list[str | int] | None:
    """Where the first string that is not valid Unicode (a lone surrogate) is."""
    if type(node) is str:
        return None if _is_unicode(node) else path
    items: Any = ()
    if type(node) is dict:
        for key in node:
            if not _is_unicode(key):
                return [*path, key]
        items = node.items()
    elif type(node) is list:
        items = enumerate(node)
    for key, child in items:
        found = surrogate_path(child, [*path, key])
        if found is not None:
            return found
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
