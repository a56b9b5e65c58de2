"""Requests written byte for byte, as a hostile client sends what no HTTP library would."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any

from tests.support import Server

# Long enough for any loaded machine; a server that never answers fails the test here.
ANSWER_WAIT_SECONDS = 30


@dataclass
class RawAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def wallet_call(method: str, request_id: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": method, "id": request_id}).encode()


def raw_request(
    server: Server,
    header_lines: list[bytes],
    body: bytes = b"",
    *,
    method: bytes = b"POST",
    content_type: bytes = b"application/json",
) -> RawAnswer:
    """One request on its own connection, with exactly these extra header lines."""
    lines = [
        method + b" / HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}".encode(),
        b"Content-Type: " + content_type,
        f"Content-Length: {len(body)}".encode(),
        b"Connection: close",
        *header_lines,
    ]
    with socket.create_connection((server.host, server.port), ANSWER_WAIT_SECONDS) as connection:
        connection.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        reply = http.client.HTTPResponse(connection)
        reply.begin()
        return RawAnswer(reply.status, reply.headers, reply.read())
