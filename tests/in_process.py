"""The real application on a real port, served from a thread of the test's own process.

`InProcessServer` is a `Server` whose `start` builds `create_app(config)` from
the same config file a `wallet-rpc serve` process would read, and serves it on
the server's own runner (`WalletAppRunner`) in an event loop of its own thread.
Tests talk HTTP to it exactly as they talk to a process, but pay no interpreter
start-up and no imports per server. What needs a process of its own stays on
`Server`: signals, kill -9, the access log on standard output, replicas, the
CLI's `serve`, and a test that reads a SQLite database's files while it is
served (closing a file drops every POSIX lock its process holds, SQLite's too).
In-process servers share one pool of signature workers, as `serve` gives its
own to the application: a pool per server would start and warm up its workers
for every test.
"""

from __future__ import annotations

import asyncio
import atexit
import errno
import functools
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from aiohttp import web

from tests.support import STARTUP_SECONDS, Server, child_environment, free_port
from wallet_rpc.cli.serve import SHUTDOWN_GRACE_SECONDS
from wallet_rpc.config import Config, resolve_config
from wallet_rpc.http.app import create_app
from wallet_rpc.http.runner import WalletAppRunner
from wallet_rpc.service.verification import SignaturePool

# How long stop() waits for in-flight requests and every cleanup context.
STOP_SECONDS = SHUTDOWN_GRACE_SECONDS + 30
BIND_ATTEMPTS = 3


@functools.cache
def _signature_pool() -> SignaturePool:
    """The signature workers of every in-process server of this test process."""
    pool = SignaturePool()
    pool.start()
    atexit.register(pool.close)
    return pool


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop `wallet-rpc serve` runs on: uvloop's where it is built."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class _LogFile(logging.Handler):
    """What the server logs while it runs, as `server.log` holds a process's output."""

    def __init__(self, server: InProcessServer) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        self._server.logged.append(self.format(record))


@dataclass
class InProcessServer(Server):
    """A server in a thread of this process; `stop` shuts it down as SIGTERM would."""

    logged: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None
    _failure: BaseException | None = None

    def start(self) -> InProcessServer:
        # A free port can be taken by another process before the server binds it.
        for _ in range(BIND_ATTEMPTS - 1):
            try:
                return self._start_on_a_free_port()
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
        return self._start_on_a_free_port()

    def _start_on_a_free_port(self) -> InProcessServer:
        assert self._thread is None, "already serving"
        self.port = free_port(self.host)
        self.settings.setdefault("server", {}).update(host=self.host, port=self.port)
        self.write_config()
        config = resolve_config(self.config_path, child_environment())
        ready: Future[None] = Future()
        self._failure = None
        self._thread = threading.Thread(
            target=self._run, args=(config, ready), name=f"wallet-rpc:{self.port}", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout=STARTUP_SECONDS)
        except BaseException:
            self._thread.join(timeout=STOP_SECONDS)
            self._thread = None
            raise
        return self

    def _run(self, config: Config, ready: Future[None]) -> None:
        handler = _LogFile(self)
        logging.getLogger().addHandler(handler)
        try:
            with asyncio.Runner(loop_factory=_new_event_loop) as runner:
                runner.run(self._serve(config, ready))
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            else:
                self._failure = error
        finally:
            logging.getLogger().removeHandler(handler)

    async def _serve(self, config: Config, ready: Future[None]) -> None:
        pool = _signature_pool() if config.verification.native else None
        runner = WalletAppRunner(
            create_app(config, signature_pool=pool),
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        )
        try:
            await runner.setup()
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        ready.set_result(None)
        try:
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> int:
        """Shut down gracefully: 0, as a process that exits cleanly after SIGTERM."""
        if self._thread is None:
            return 0
        assert self._loop is not None
        assert self._stopping is not None
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=STOP_SECONDS)
        assert not self._thread.is_alive(), f"server did not stop in {STOP_SECONDS}s"
        self._thread = self._loop = self._stopping = None
        if self._failure is not None:
            raise self._failure
        return 0

    def kill(self) -> None:
        raise NotImplementedError("kill -9 needs a process: use the make_server fixture")

    def log(self) -> str:
        return "\n".join(self.logged)
