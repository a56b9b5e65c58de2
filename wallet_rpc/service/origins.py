"""Origins: what a request's origin is, and whether the wallet talks to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wallet_rpc.errors import OriginMismatch

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
_ORIGIN = re.compile(rf"^(https?)://({_HOST})(?::(\d{{1,5}}))?$")
_PATTERN = re.compile(rf"^(https?)://(\*\.)?({_HOST})(?::(\d{{1,5}}))?$")
_ONE_LABEL = re.compile(rf"^{_LABEL}$")
# Headers whose verdict is remembered; past this many the memo starts over, so
# that a client sending ever new Origin values cannot grow it.
_VERDICTS_KEPT = 1024


def normalize_origin(value: str) -> str | None:
    """The origin in canonical form (lower case), or None if it is not a serialized origin.

    Browsers send `scheme://host[:port]` with nothing after it: a path, user
    info, `null` or an empty value are not origins.
    """
    lowered = value.lower()
    match = _ORIGIN.match(lowered)
    if match is None:
        return None
    port = match.group(3)
    if port is not None and not 0 < int(port) < 65536:
        return None
    return lowered


@dataclass(frozen=True, slots=True)
class _OriginPattern:
    scheme: str
    wildcard: bool
    host: str
    port: str | None

    def matches(self, scheme: str, host: str, port: str | None) -> bool:
        if scheme != self.scheme or port != self.port:
            return False
        if not self.wildcard:
            return host == self.host
        first_label, _, rest = host.partition(".")
        return rest == self.host and _ONE_LABEL.match(first_label) is not None


class OriginPolicy:
    """The allowlist and the fallback origin of requests that carry no Origin header."""

    def __init__(self, allowed_origins: tuple[str, ...], default_origin: str | None) -> None:
        self._patterns: list[_OriginPattern] = []
        for entry in allowed_origins:
            match = _PATTERN.match(entry.lower())
            if match is None:
                raise ValueError(f"not an origin pattern: {entry!r}")
            scheme, wildcard, host, port = match.groups()
            self._patterns.append(_OriginPattern(scheme, wildcard is not None, host, port))
        self._default_origin = default_origin
        # Every request asks twice (CORS and the method's check), with one of a few headers.
        self._verdicts: dict[str, str | None] = {}

    def is_allowed(self, origin: str) -> bool:
        match = _ORIGIN.match(origin)
        if match is None:
            return False
        scheme, host, port = match.groups()
        return any(pattern.matches(scheme, host, port) for pattern in self._patterns)

    def allowed(self, origin_header: str) -> str | None:
        """The header's origin in canonical form if the allowlist admits it, else None."""
        try:
            return self._verdicts[origin_header]
        except KeyError:
            pass
        origin = normalize_origin(origin_header)
        verdict = origin if origin is not None and self.is_allowed(origin) else None
        if len(self._verdicts) >= _VERDICTS_KEPT:
            self._verdicts.clear()
        self._verdicts[origin_header] = verdict
        return verdict

    def resolve(self, origin_header: str | None) -> str:
        """The request's allowed origin, or OriginMismatch.

        Only a missing header falls back to default_origin; a present but
        empty or malformed one is refused.
        """
        if origin_header is None:
            if self._default_origin is None:
                raise OriginMismatch()
            origin_header = self._default_origin
        origin = self.allowed(origin_header)
        if origin is None:
            raise OriginMismatch()
        return origin
