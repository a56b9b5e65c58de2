"""Origins: what a request's origin is, in one normal form, and whether the wallet talks to it.

One origin has one spelling here: the one a browser serializes (RFC 6454
section 6.1; the WHATWG URL standard): scheme and host in lower case, the
scheme's default port left out, an IPv6 host in its compressed form. That
spelling is what is compared with the allowlist, recorded, echoed in CORS and
charged by the rate limiter, so `HTTP://LOCALHOST:80` and `http://localhost`
are one origin. Anything that is not ASCII is not an origin: lower-casing
Unicode first would turn `https://\u212a.example.org` (Kelvin sign) into
`k.example.org`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from wallet_rpc.errors import OriginMismatch

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
_ORIGIN = re.compile(rf"(https?)://({_HOST})(?::([0-9]{{1,5}}))?")
_PATTERN = re.compile(rf"(https?)://(\*\.)?({_HOST})(?::([0-9]{{1,5}}))?")
_ONE_LABEL = re.compile(_LABEL)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Longer than any serialized origin (a 253-character host, a port): not one,
# and not worth a regex nor a place in the memo below.
_LONGEST_ORIGIN = len("https://") + 255 + len(":65535")
# Headers whose verdict is remembered; past this many the memo starts over, so
# that a client sending ever new Origin values cannot grow it.
_VERDICTS_KEPT = 1024


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int | None  # None: the scheme's default port

    def serialized(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def _origin(scheme: str, host: str, port: str | None) -> Origin | None:
    """The origin in normal form from a matched scheme, host and port, or None if out of range."""
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    if port is None:
        return Origin(scheme, host, None)
    number = int(port)
    if not 0 < number < 65536:
        return None
    return Origin(scheme, host, None if number == _DEFAULT_PORTS[scheme] else number)


def parse_origin(value: str) -> Origin | None:
    """The origin a header value names, in normal form, or None if it is not a serialized origin.

    Browsers send `scheme://host[:port]` with nothing after it: a path, user
    info, `null`, an empty value or several origins are not an origin.
    """
    if len(value) > _LONGEST_ORIGIN or not value.isascii():
        return None
    match = _ORIGIN.fullmatch(value.lower())
    return None if match is None else _origin(*match.groups())


@dataclass(frozen=True, slots=True)
class _OriginPattern:
    """An allowlist entry: an origin, or `scheme://*.host[:port]` for any one label before host."""

    wildcard: bool
    origin: Origin

    @classmethod
    def parse(cls, entry: str) -> _OriginPattern:
        match = _PATTERN.fullmatch(entry.lower()) if entry.isascii() else None
        if match is None:
            raise ValueError(f"not an origin pattern: {entry!r}")
        scheme, wildcard, host, port = match.groups()
        origin = _origin(scheme, host, port)
        if origin is None:
            raise ValueError(f"not an origin pattern: {entry!r}")
        return cls(wildcard is not None, origin)

    def matches(self, origin: Origin) -> bool:
        if origin.scheme != self.origin.scheme or origin.port != self.origin.port:
            return False
        if not self.wildcard:
            return origin.host == self.origin.host
        first_label, _, rest = origin.host.partition(".")
        return rest == self.origin.host and _ONE_LABEL.fullmatch(first_label) is not None


class OriginPolicy:
    """The allowlist and the fallback origin of requests that carry no Origin header."""

    def __init__(self, allowed_origins: tuple[str, ...], default_origin: str | None) -> None:
        self._patterns = [_OriginPattern.parse(entry) for entry in allowed_origins]
        self._default_origin = default_origin
        # Every request asks twice (CORS and the method's check), with one of a few headers.
        self._verdicts: dict[str, str | None] = {}

    def _is_allowed(self, origin: Origin) -> bool:
        return any(pattern.matches(origin) for pattern in self._patterns)

    def allowed(self, origin_header: str) -> str | None:
        """The header's origin in normal form if the allowlist admits it, else None."""
        try:
            return self._verdicts[origin_header]
        except KeyError:
            pass
        origin = parse_origin(origin_header)
        verdict = origin.serialized() if origin is not None and self._is_allowed(origin) else None
        if len(origin_header) <= _LONGEST_ORIGIN:
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[origin_header] = verdict
        return verdict

    def request_origin(self, origin_header: str | None) -> str | None:
        """The request's origin in normal form if it is allowed, else None.

        Only a missing header falls back to default_origin; a present but
        empty or malformed one is refused.
        """
        if origin_header is None:
            if self._default_origin is None:
                return None
            origin_header = self._default_origin
        return self.allowed(origin_header)

    def resolve(self, origin_header: str | None) -> str:
        """The request's allowed origin in normal form, or OriginMismatch."""
        origin = self.request_origin(origin_header)
        if origin is None:
            raise OriginMismatch()
        return origin
