"""What the pages' tests share: hostile text and how it must look, and the posts a form refuses."""

from __future__ import annotations

from typing import Any

from tests.approval_support import ACCOUNT
from tests.support import Response

# Text a hostile dApp puts in a credential: markup, a right-to-left override
# (U+202E) that reorders what follows, and a terminal escape with a forged line.
MARKUP = "<script>alert(1)</script>"
OVERRIDE = "\u202e"
ESCAPE = "\x1b[2J"
FORGED_LINE = "\r\nowner: B62forged"
HOSTILE_NAME = f"name{OVERRIDE}gpj.exe"
HOSTILE_VALUE = f"{MARKUP}{ESCAPE}{FORGED_LINE}"


def hostile_credential() -> dict[str, Any]:
    return {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "metadata": {"note": f"{OVERRIDE}{MARKUP}"},
        "credential": {
            "owner": {"_type": "PublicKey", "value": ACCOUNT},
            "data": {HOSTILE_NAME: HOSTILE_VALUE, "level": {"_type": "UInt32", "value": "7"}},
        },
    }


def assert_shown_escaped(html: str) -> None:
    """The hostile text appears, escaped for a person and isolated, never raw."""
    for raw in (OVERRIDE, "\x1b", "\r", MARKUP):
        assert raw not in html, repr(raw)
    assert "name\\u202egpj.exe" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u001b[2J\\u000d\\u000aowner: B62forged" in html
    assert "<bdi>name\\u202egpj.exe</bdi>" in html


def cors_headers(response: Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-")
    }


# Form posts both loopback pages refuse with 403 (http/loopback.py), as
# (case, extra headers, token): None for the token means the page's own.
REFUSED_FORM_POSTS: list[tuple[str, dict[str, str], str | None]] = [
    ("origin-of-a-dapp", {"Origin": "http://localhost:5173"}, None),
    ("opaque-origin", {"Origin": "null"}, None),
    ("cross-site-fetch", {"Sec-Fetch-Site": "cross-site"}, None),
    ("same-site-fetch", {"Sec-Fetch-Site": "same-site"}, None),
    ("no-token", {}, ""),
    ("wrong-token", {}, "not-the-token"),
    ("non-ascii-token", {}, "jeton-é"),
]
