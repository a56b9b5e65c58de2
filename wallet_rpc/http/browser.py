"""GET /provider.js: the script that gives a dApp page `window.mina` (SPEC section 5)."""

from __future__ import annotations

from aiohttp import web

from wallet_rpc.http.static_files import JAVASCRIPT, file_answer, static_file

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Pages on any origin load it with a plain <script> tag, even under COEP.
    "Cross-Origin-Resource-Policy": "cross-origin",
}


async def provider_script(request: web.Request) -> web.StreamResponse:
    return file_answer(request, static_file("provider.js", JAVASCRIPT), _HEADERS)
