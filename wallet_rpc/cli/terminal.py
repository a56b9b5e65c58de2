"""Printing for a person at a terminal: what a client sent never reaches it raw."""

from __future__ import annotations

import json

from wallet_rpc.display import for_person


def fields_line(*fields: object) -> str:
    """Tab-separated fields, each with its control and format characters escaped."""
    return "\t".join(for_person(str(field)) for field in fields)


def json_text(value: object) -> str:
    """`value` as indented JSON that a terminal shows as it is.

    json.dumps escapes C0 controls inside strings; the rest of Unicode's Cc and
    Cf (DEL, C1 controls such as CSI, bidi overrides) are escaped here the same
    way, so the text still parses to exactly `value`. The layout's own newlines
    are kept: each line is escaped on its own.
    """
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return "\n".join(for_person(line) for line in text.split("\n"))
