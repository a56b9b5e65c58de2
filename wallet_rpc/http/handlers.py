"""Handlers and middlewares: the HTTP rules of SPEC section 2."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from wallet_rpc import appkeys
from wallet_rpc.methods import CallContext
from wallet_rpc.rpc.envelope import encode
from wallet_rpc.service.prompt import requester_present

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
PREFLIGHT_MAX_AGE_SECONDS = "600"


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")


@web.middleware
async def http_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route's errors and CORS headers, in one layer (each layer costs a coroutine).

    HTTP errors keep their status; anything else is a 500 with no detail.
    Allowed origins get `Access-Control-Allow-Origin` on every answer,
    errors included.
    """
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        # aiohttp's own texts may quote sizes or paths; answer with the bare reason.
        response = _plain(error.status, error.reason)
        if "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
    except Exception:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        response = _plain(500, "Internal Server Error")
    origin = request.headers.get("Origin")
    response.headers["Vary"] = "Origin"
    if origin is not None and request.app[appkeys.WALLET].is_allowed_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


async def preflight(request: web.Request) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is None or not request.app[appkeys.WALLET].is_allowed_origin(origin):
        return _plain(403, "Origin not allowed")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
        },
    )


async def json_rpc(request: web.Request) -> web.StreamResponse:
    if request.content_type != JSON:
        return _plain(415, "Content-Type must be application/json")
    if (
        request.content_length is not None
        and request.content_length > request.app[appkeys.CONFIG].server.max_body_bytes
    ):
        return _plain(413, "Request body too large")
    body = await request.read()
    envelope = request.app[appkeys.ENVELOPE]
    context = CallContext(request.app[appkeys.WALLET], request.headers.get("Origin"))
    # A call waiting for a person's decision (prompt mode) gives up when its
    # client hangs up; aiohttp does not cancel handlers.
    presence = requester_present.set(lambda: request.transport is not None)
    try:
        answer = await envelope.answer(body, context)
    finally:
        requester_present.reset(presence)
    if answer is None:
        return web.Response(status=204)
    return web.Response(body=encode(answer), content_type=JSON)


async def healthz(request: web.Request) -> web.StreamResponse:
    if await request.app[appkeys.DATABASE].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)
