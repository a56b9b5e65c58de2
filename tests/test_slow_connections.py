"""Slow clients do not hold connections: the header timeout and keep-alive idle timeout (SPEC 2).

The real 10 s once, against a `wallet-rpc serve` process; the rest on the
same runner and application in this process, with the timeouts shortened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from tests.conftest import sqlite_only
from tests.raw_http import ANSWER_WAIT_SECONDS
from tests.support import Server
from wallet_rpc.config import Config, DatabaseConfig, SecurityConfig, VerificationConfig
from wallet_rpc.http.app import create_app
from wallet_rpc.http.runner import WalletAppRunner

# The trickling client sends a byte this often, and gives up (failing) after TRICKLE_BYTES.
TRICKLE_PAUSE_SECONDS = 0.05
TRICKLE_BYTES = int(ANSWER_WAIT_SECONDS / TRICKLE_PAUSE_SECONDS)


def wallet_info_request(request_id: int = 1) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "method": "wallet_info", "id": request_id}).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, *, header_timeout: float, keepalive_timeout: float
) -> AsyncIterator[int]:
    """The application on the server's runner, on a free port of this loop; that port."""
    config = Config(
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}"),
        security=SecurityConfig(default_origin="http://localhost"),
        verification=VerificationConfig(native=False),
    )
    runner = WalletAppRunner(
        create_app(config),
        header_timeout=header_timeout,
        keepalive_timeout=keepalive_timeout,
        access_log=None,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield site.port
    finally:
        await runner.cleanup()


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    async with asyncio.timeout(ANSWER_WAIT_SECONDS):
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        assert length is not None, head
        return int(head.split(b" ", 2)[1]), await reader.readexactly(int(length.group(1)))


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server has closed the connection, having sent nothing more."""
    try:
        return await reader.read() == b""
    except ConnectionResetError:  # it closed while our trickled bytes were in flight
        return True


async def trickle_until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, start: bytes
) -> bool:
    """Send `start`, then one more header byte at a time, never ending the headers;
    whether the server closed the connection before the client gave up."""
    closed = asyncio.ensure_future(closed_by_server(reader))
    writer.write(start)
    for _ in range(TRICKLE_BYTES):
        await asyncio.wait({closed}, timeout=TRICKLE_PAUSE_SECONDS)
        if closed.done():
            return closed.result()
        with contextlib.suppress(ConnectionError):
            writer.write(b"a")
            await writer.drain()
    closed.cancel()
    return False


async def test_headers_trickled_past_the_header_timeout_close_the_connection(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, header_timeout=0.5, keepalive_timeout=60) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: "
        assert await trickle_until_closed(reader, writer, start)
        writer.close()


async def test_a_kept_alive_connection_trickling_its_next_request_is_closed(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, header_timeout=0.5, keepalive_timeout=60) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(wallet_info_request())
        status, _ = await read_answer(reader)
        assert status == 200
        assert await trickle_until_closed(reader, writer, b"POST / HTTP/1.1\r\nX-Pad: ")
        writer.close()


async def test_an_idle_kept_alive_connection_outlives_the_header_timeout_until_its_own(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, header_timeout=0.2, keepalive_timeout=5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(wallet_info_request(1))
        assert (await read_answer(reader))[0] == 200
        # Idle five header timeouts: the header clock starts with a request's first byte.
        await asyncio.sleep(1.0)
        writer.write(wallet_info_request(2))
        status, body = await read_answer(reader)
        assert (status, json.loads(body)["id"]) == (200, 2)
        async with asyncio.timeout(ANSWER_WAIT_SECONDS):
            assert await closed_by_server(reader)
        writer.close()


async def test_headers_sent_in_pieces_and_pipelined_requests_are_answered(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, header_timeout=5, keepalive_timeout=60) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        first = wallet_info_request(1)
        for index in range(0, len(first), 7):
            writer.write(first[index : index + 7])
            await writer.drain()
        assert (await read_answer(reader))[0] == 200
        writer.write(wallet_info_request(2) + wallet_info_request(3))
        answers = [await read_answer(reader) for _ in range(2)]
        assert [json.loads(body)["id"] for _, body in answers] == [2, 3]
        writer.close()


# The header timeout is the HTTP layer's, whatever the store: one backend is enough.
@sqlite_only
def test_the_real_server_closes_silent_and_unfinished_connections_after_its_header_timeout(
    server: Server,
) -> None:
    """SPEC's 10 s on `wallet-rpc serve` itself: a connection that sends nothing, and
    one whose headers never end, are closed; the wait fails the test past 30 s."""
    address = (server.host, server.port)
    with (
        socket.create_connection(address, ANSWER_WAIT_SECONDS) as silent,
        socket.create_connection(address, ANSWER_WAIT_SECONDS) as unfinished,
    ):
        unfinished.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: aaaa")
        assert silent.recv(1024) == b""
        assert unfinished.recv(1024) == b""
