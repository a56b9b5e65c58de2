"""Handlers, and the HTTP rules of SPEC section 2 that every route follows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from wallet_rpc import appkeys
from wallet_rpc.http.content_coding import BodyRefused, body_coding, decode_body
from wallet_rpc.methods import CallContext
from wallet_rpc.rpc.envelope import encode

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
PREFLIGHT_MAX_AGE_SECONDS = "600"


def plain_answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")


def origin_header(request: web.Request) -> str | None:
    """The request's Origin header; several are one value joined by ", " (no origin at all).

    RFC 9110 section 5.3 makes repeated fields one comma-separated list; a
    browser sends exactly one Origin, so a request with more is not a
    browser's and must not pass as the first (or the last) of them.
    """
    values = request.headers.getall(hdrs.ORIGIN, ())
    return ", ".join(values) if values else None


def with_http_rules(handler: Handler, *, cors: bool = True) -> Handler:
    """A route's handler under the rules every answer follows.

    HTTP errors keep their status; a body that cannot be read as sent (bad
    chunking, a content coding that does not decode) is a 400 that closes the
    connection, whose stream is lost; anything else is a 500 with no detail.
    Allowed origins get `Access-Control-Allow-Origin` on every answer,
    errors included: the origin in normal form, which is what a browser
    sends and compares the header with, and never a client's other spelling;
    unless `cors` is off (loopback-only routes: SPEC section 2).
    Wrapped into each route rather than installed as a middleware: with any
    middleware, aiohttp runs every request through two more coroutine layers
    and a cache lookup, about 20 us of a store's ~200 (docs/decisions.md).
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            # aiohttp's own texts may quote sizes or paths; answer with the bare reason.
            response = plain_answer(error.status, error.reason)
        except web.RequestPayloadError:
            # Nothing more of this body will come; ending it spares aiohttp
            # draining it, and logging the same error again, before it closes.
            request.content.feed_eof()
            response = plain_answer(400, "Bad Request")
            response.force_close()
        except Exception as error:
            if not (isinstance(error, ConnectionResetError) and request.transport is None):
                logger.exception("unhandled error in %s %s", request.method, request.path)
            # else the client hung up mid-request: nobody to answer, nothing to log.
            response = plain_answer(500, "Internal Server Error")
        if not cors:
            return response
        header = origin_header(request)
        response.headers["Vary"] = "Origin"
        origin = None if header is None else request.app[appkeys.WALLET].allowed_origin(header)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
        return response

    return handle


# Said after "Method Not Allowed" on a path: where a browser that lands there should go.
_ELSEWHERE = {"/": "this is the JSON-RPC endpoint (POST); the wallet's page is GET /wallet"}


def _method_not_allowed(allowed: str, elsewhere: str | None) -> Handler:
    text = "Method Not Allowed" if elsewhere is None else f"Method Not Allowed: {elsewhere}"

    async def refuse(request: web.Request) -> web.StreamResponse:
        response = plain_answer(405, text)
        response.headers["Allow"] = allowed
        return response

    return refuse


async def _not_found(request: web.Request) -> web.StreamResponse:
    return plain_answer(404, "Not Found")


def add_routes(
    app: web.Application,
    routes: list[web.RouteDef],
    loopback_routes: list[web.RouteDef] | None = None,
) -> None:
    """Add routes under the HTTP rules, with the 404 and 405 answers for everything else.

    `loopback_routes` (guarded by http/loopback.py) get no CORS headers, their
    405s included. Without a middleware, the router's own 404 and 405 would
    skip the rules; so every path gets a route for its other methods, and
    every other path one route of its own.
    """
    private = loopback_routes or []
    app.add_routes(
        [
            web.RouteDef(
                route.method, route.path, with_http_rules(route.handler, cors=cors), route.kwargs
            )
            for group, cors in ((routes, True), (private, False))
            for route in group
        ]
    )
    private_paths = {route.path for route in private}
    for resource in list(app.router.resources()):
        assert isinstance(resource, web.Resource)  # plain and dynamic paths only
        allowed = ", ".join(sorted({route.method for route in resource}))
        refuse = _method_not_allowed(allowed, _ELSEWHERE.get(resource.canonical))
        cors = resource.canonical not in private_paths
        resource.add_route(hdrs.METH_ANY, with_http_rules(refuse, cors=cors))
    app.router.add_route(hdrs.METH_ANY, "/{path:.*}", with_http_rules(_not_found))


async def preflight(request: web.Request) -> web.StreamResponse:
    header = origin_header(request)
    if header is None or request.app[appkeys.WALLET].allowed_origin(header) is None:
        return plain_answer(403, "Origin not allowed")
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
        return plain_answer(415, "Content-Type must be application/json")
    max_body_bytes = request.app[appkeys.CONFIG].server.max_body_bytes
    if request.content_length is not None and request.content_length > max_body_bytes:
        return plain_answer(413, "Request body too large")
    try:
        coding = body_coding(request.headers.getall(hdrs.CONTENT_ENCODING, ()))
        body = decode_body(await request.read(), coding, max_body_bytes)
    except BodyRefused as refusal:
        return plain_answer(refusal.status, refusal.reason)
    context = CallContext(
        request.app[appkeys.WALLET],
        origin_header(request),
        requester_present=lambda: request.transport is not None,
    )
    answer = await request.app[appkeys.ENVELOPE].answer(body, context)
    if answer is None:
        return web.Response(status=204)
    return web.Response(body=encode(answer), content_type=JSON)


async def healthz(request: web.Request) -> web.StreamResponse:
    if await request.app[appkeys.STORE_STATUS].healthy():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)
