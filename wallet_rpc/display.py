"""Client text made safe to show a person: control and format characters escaped."""

from __future__ import annotations

import unicodedata

# Unicode categories Cc (controls: ESC, CR, LF, ...) and Cf (format: bidi
# overrides such as U+202E, zero-width joiners, ...). Shown raw, they let a
# dApp redraw a terminal or reorder what a person reads.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf"))


def _escaped(character: str) -> str:
    code = ord(character)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    # Outside the BMP, as JSON writes it: a surrogate pair.
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def for_person(text: str) -> str:
    """`text` with every Cc and Cf character written as `\\uXXXX`."""
    if text.isprintable():  # no Cc or Cf in it: the common case, at C speed
        return text
    return "".join(
        _escaped(character) if unicodedata.category(character) in _HIDDEN_CATEGORIES else character
        for character in text
    )
