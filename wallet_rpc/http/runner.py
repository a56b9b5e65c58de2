"""Serving the application: aiohttp's runner, with its connection protocol held to SPEC section 2.

Slow clients do not hold connections: one that has not sent a request's
complete headers within `header_timeout` seconds (10) of its first byte, or of
connecting, is closed, as is a keep-alive connection idle for
`keepalive_timeout` seconds (75, aiohttp's own rule). aiohttp has no header
timeout of its own: its keep-alive timer closes a connection waiting for a
request, but restarts after every answer and defaults to an hour.

Two things aiohttp's own protocol does that a client of ours must not see:

- A body found malformed after its request's headers were handed to a handler
  (a bad chunk size in a later packet, say): aiohttp's C parser queues a 400
  for the connection but never fails the body being read, so the handler waits
  until the client gives up. The body now fails as aiohttp's pure-Python parser
  fails it, the handler answers 400 and the connection closes.
- Its answers to unparsable requests carry the parser's message, which quotes
  the client's bytes; ours carry the status phrase only, like every other
  plain-text answer.

These lean on aiohttp's internals (`_messages`, `_current_request`, `_waiter`,
`_ErrInfo`, the runner's `_make_server`); the versions that have them are pinned in
`constraints.txt`, and tests/test_http_protocol.py fails if they change.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import suppress
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from wallet_rpc.http.handlers import plain_answer

logger = logging.getLogger(__name__)

HEADER_TIMEOUT_SECONDS = 10.0
KEEPALIVE_TIMEOUT_SECONDS = 75.0


class _WalletRequestHandler(RequestHandler):
    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _waiting_for_a_request(self) -> bool:
        return self._waiter is not None and not self._waiter.done()

    def _arm_header_deadline(self) -> None:
        self._header_deadline = self._loop.call_later(self._header_timeout, self._headers_overdue)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_overdue(self) -> None:
        self._header_deadline = None
        if self._waiting_for_a_request():
            logger.debug("closing a connection: no complete request headers in time")
            self.force_close()

    def data_received(self, data: bytes) -> None:
        # Bytes that arrive while no request is under way begin the next one's
        # headers: from then on they have header_timeout seconds to complete.
        if data and self._header_deadline is None and self._waiting_for_a_request():
            self._arm_header_deadline()
        requests_before = len(self._messages)
        super().data_received(data)
        if len(self._messages) > requests_before:
            self._disarm_header_deadline()
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
    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return _WalletRequestHandler(
            self, loop=self._loop, header_timeout=self._header_timeout, **self._kwargs
        )


class WalletAppRunner(web.AppRunner):
    """`web.AppRunner` whose connections use the protocol above.

    The timeouts are SPEC section 2's unless a test asks for shorter ones.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float = HEADER_TIMEOUT_SECONDS,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, keepalive_timeout=keepalive_timeout, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _WalletServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=asyncio.get_running_loop(),
            header_timeout=self._header_timeout,
            **server._kwargs,
        )


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    shutdown_timeout: float,
    on_listening: Callable[[], None],
) -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def stop_serving() -> None:
        if not stop.done():
            stop.set_result(None)

    for number in _STOP_SIGNALS:
        # Not on Windows; there asyncio.Runner turns Ctrl+C into cancelling this task.
        with suppress(NotImplementedError):
            loop.add_signal_handler(number, stop_serving)
    runner = WalletAppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        on_listening()
        await stop
    finally:
        await runner.cleanup()
        for number in _STOP_SIGNALS:
            with suppress(NotImplementedError):
                loop.remove_signal_handler(number)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is built (not on Windows), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_app(
    app: web.Application,
    *,
    host: str,
    port: int,
    shutdown_timeout: float,
    on_listening: Callable[[], None] = lambda: None,
) -> None:
    """`web.run_app` for one TCP address, on `WalletAppRunner`.

    `on_listening` runs once the socket listens. SIGINT and SIGTERM end it
    gracefully: requests in flight get `shutdown_timeout` seconds, then every
    cleanup context closes. A start-up that fails (a cleanup context, the bind)
    raises its exception after the contexts already opened are closed.
    """
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        runner.run(_serve(app, host, port, shutdown_timeout, on_listening))
