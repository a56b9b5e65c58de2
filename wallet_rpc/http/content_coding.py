"""Request bodies' Content-Encoding (SPEC section 2): gzip, deflate or identity, decoded whole.

The application decodes bodies itself (aiohttp's `auto_decompress` is off,
`create_app`): aiohttp treats a coding it does not know as identity and takes
a gzip stream cut short as the bytes it did get, where a body is either what
its sender meant or refused. Decoding stops one byte past the limit, so a
small body that inflates to gigabytes costs no more than a large one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

GZIP = "gzip"
DEFLATE = "deflate"
IDENTITY = "identity"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


class BodyRefused(Exception):
    """A body the server will not read: its HTTP status and the one line that says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _unsupported() -> BodyRefused:
    return BodyRefused(415, "Content-Encoding must be gzip, deflate or identity")


def _undecodable(coding: str) -> BodyRefused:
    return BodyRefused(400, f"Bad Request: the body is not whole {coding} data")


def _too_large() -> BodyRefused:
    return BodyRefused(413, "Request body too large")


def body_coding(header_values: Iterable[str]) -> str | None:
    """The one coding to undo (gzip or deflate), or None for identity; BodyRefused (415) else.

    Content-Encoding is a list (RFC 9110 section 8.4), and repeated headers
    add to it; identity entries change nothing. One coding is decoded, not a
    stack of them.
    """
    codings: list[str] = []
    for value in header_values:
        for token in value.split(","):
            coding = token.strip(" \t")
            if not coding.isascii():
                raise _unsupported()
            coding = coding.lower()
            if coding in ("", IDENTITY):
                continue
            if coding not in (GZIP, DEFLATE) or codings:
                raise _unsupported()
            codings.append(coding)
    return codings[0] if codings else None


def _deflate_wbits(body: bytes) -> int:
    # RFC 9110's "deflate" is the zlib format (RFC 1950); some clients send the
    # raw deflate stream instead, which aiohttp and browsers accept as well.
    is_zlib = len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0
    return _ZLIB_WBITS if is_zlib else _RAW_DEFLATE_WBITS


def _inflate(data: bytes, wbits: int, room: int, coding: str) -> tuple[bytes, bytes]:
    """One stream's decoded bytes (at most `room`), and whatever follows the stream."""
    decoder = zlib.decompressobj(wbits)
    try:
        decoded = decoder.decompress(data, room + 1)
    except zlib.error:
        raise _undecodable(coding) from None
    if len(decoded) > room:
        raise _too_large()
    if not decoder.eof:
        raise _undecodable(coding)
    return decoded, decoder.unused_data


def decode_body(body: bytes, coding: str | None, limit: int) -> bytes:
    """The body as sent before `coding` was applied, at most `limit` bytes; BodyRefused else.

    A gzip body may hold several members (RFC 1952), decoded one after the
    other; anything else after the end of the stream does not decode.
    """
    if coding is None:
        return body
    if coding == DEFLATE:
        decoded, rest = _inflate(body, _deflate_wbits(body), limit, coding)
        if rest:
            raise _undecodable(coding)
        return decoded
    parts: list[bytes] = []
    room = limit
    rest = body
    while True:
        decoded, rest = _inflate(rest, _GZIP_WBITS, room, coding)
        parts.append(decoded)
        room -= len(decoded)
        if not rest:
            return b"".join(parts)
