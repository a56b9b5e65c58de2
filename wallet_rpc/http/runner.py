"""Serving the application: aiohttp's runner, with its connection protocol held to SPEC section 2.

Two things aiohttp's own protocol does that a client of ours must not see:

- A body found malformed after its request's headers were handed to a handler
  (a bad chunk size in a later packet, say): aiohttp's C parser queues a 400
  for the connection but never fails the body being read, so the handler waits
  until the client gives up. The body now fails as aiohttp's pure-Python parser
  fails it, the handler answers 400 and the connection closes.
- Its answers to unparsable requests carry the parser's message, which quotes
  the client's bytes; ours carry the status phrase only, like every other
  plain-text answer.

Both lean on aiohttp's internals (`_messages`, `_current_request`, `_ErrInfo`,
the runner's `_make_server`); the versions that have them are pinned in
`constraints.txt`, and tests/test_http_protocol.py fails if they change.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from wallet_rpc.http.handlers import plain_answer

logger = logging.getLogger(__name__)


class _WalletRequestHandler(RequestHandler):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._messages:
            return
        newest, _ = self._messages[-1]
        if not isinstance(newest, _ErrInfo) or newest.exc is None:
            return
        unfinished = [payload for _, payload in self._messages]
        if self._current_request is not None:
            unfinished.append(self._current_request.content)
        for body in unfinished:
            if not body.is_eof() and body.exception() is None:
                # What aiohttp's pure-Python parser raises for a broken body.
                body.set_exception(web.RequestPayloadError(str(newest.exc)))

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            super().handle_error(request, status, exc, message)  # logs it; refuses mid-response
        else:  # a client's unparsable request: one line, no traceback
            reason = (message or "").partition("\n")[0]
            logger.info("%d for an unparsable request from %s: %s", status, request.remote, reason)
        answer = plain_answer(status, HTTPStatus(status).phrase)
        answer.force_close()
        return answer


class _WalletServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _WalletRequestHandler(self, loop=self._loop, **self._kwargs)


class WalletAppRunner(web.AppRunner):
    """`web.AppRunner` whose connections use the protocol above."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _WalletServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **server._kwargs,
        )


async def _serve(app: web.Application, host: str, port: int, shutdown_timeout: float) -> None:
    runner = WalletAppRunner(
        app, handle_signals=True, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.get_running_loop().create_future()  # until SIGINT or SIGTERM
    finally:
        await runner.cleanup()


def run_app(
    app: web.Application,
    *,
    host: str,
    port: int,
    loop: asyncio.AbstractEventLoop,
    shutdown_timeout: float,
) -> None:
    """`web.run_app` for one TCP address, on `WalletAppRunner`.

    SIGINT and SIGTERM end it gracefully: requests in flight get
    `shutdown_timeout` seconds, then every cleanup context closes.
    """
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, shutdown_timeout))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            with suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        leftovers = asyncio.all_tasks(loop)
        for task in leftovers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
