"""The HTTP connection itself: requests that cannot be parsed, bodies that cannot be read."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import zlib
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import InProcessServerFactory
from tests.support import ALLOWED_ORIGIN, Server, seed_credential
from tests.test_fuzz import FUZZ_SETTINGS, assert_clean_answer

# Long enough for any loaded machine; a server that never answers fails the test here.
ANSWER_WAIT_SECONDS = 30
BAD_REQUEST = b"Bad Request\n"


def store_call() -> bytes:
    call = {
        "jsonrpc": "2.0",
        "method": "mina_storePrivateCredential",
        "params": {"credential": seed_credential()},
        "id": 1,
    }
    return json.dumps(call).encode("utf-8")


def chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def request_head(*headers: str) -> bytes:
    lines = [
        "POST / HTTP/1.1",
        "Host: wallet-rpc",
        "Content-Type: application/json",
        f"Origin: {ALLOWED_ORIGIN}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def split_answer(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def send_body_once_its_request_is_dispatched(server: Server, body: bytes) -> tuple[int, bytes]:
    """A chunked request whose body goes out only after the server has handed its
    headers to a handler: `Expect: 100-continue` is answered from the handler's side."""
    head = request_head("Transfer-Encoding: chunked", "Expect: 100-continue")
    with socket.create_connection((server.host, server.port), ANSWER_WAIT_SECONDS) as connection:
        connection.sendall(head)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            byte = connection.recv(1)
            assert byte, f"closed before 100 Continue: {interim!r}"
            interim += byte
        assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
        connection.sendall(body)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        return answer.status, answer.read()


def test_a_chunked_body_broken_after_its_headers_were_dispatched_is_400_and_stores_nothing(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    status, body = send_body_once_its_request_is_dispatched(server, b"zz\r\n" + store_call())
    assert (status, body) == (400, BAD_REQUEST)
    assert server.stored() == []
    assert server.call("wallet_info")["result"]["init"] is True


def test_a_chunk_longer_than_its_size_line_is_400(shared_in_process_server: Server) -> None:
    call = store_call()
    broken = f"{len(call) - 10:x}\r\n".encode() + call + b"\r\n0\r\n\r\n"
    status, body = send_body_once_its_request_is_dispatched(shared_in_process_server, broken)
    assert (status, body) == (400, BAD_REQUEST)


def test_a_well_formed_chunked_body_sent_after_100_continue_is_answered(
    shared_in_process_server: Server,
) -> None:
    status, body = send_body_once_its_request_is_dispatched(
        shared_in_process_server, chunked(b'{"jsonrpc": "2.0", "method": "wallet_info", "id": 7}')
    )
    assert status == 200
    assert json.loads(body)["id"] == 7


def test_a_chunked_body_over_the_limit_is_413(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"server": {"max_body_bytes": 200}})

    def pieces() -> Iterator[bytes]:
        yield b'{"jsonrpc": "2.0", "method": "wallet_info", "id": 1, "pad": "'
        yield b"x" * 300
        yield b'"}'

    connection = http.client.HTTPConnection(server.host, server.port, timeout=ANSWER_WAIT_SECONDS)
    try:
        # An iterable body without Content-Length goes out chunk-encoded.
        connection.request(
            "POST",
            "/",
            body=pieces(),
            headers={"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN},
        )
        reply = connection.getresponse()
        assert reply.status == 413
        assert reply.read() == b"Request Entity Too Large\n"
    finally:
        connection.close()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="request line"),
        pytest.param(request_head("Bad Header") + b"{}", id="header line"),
        pytest.param(
            request_head("Transfer-Encoding: chunked") + b"zz\r\n{}\r\n0\r\n\r\n",
            id="chunk size",
        ),
        pytest.param(request_head("Content-Length: 1", "Content-Length: 2") + b"{}", id="lengths"),
    ],
)
def test_an_unparsable_request_is_400_without_the_parsers_words(
    shared_in_process_server: Server, raw: bytes
) -> None:
    with socket.create_connection(
        (shared_in_process_server.host, shared_in_process_server.port), ANSWER_WAIT_SECONDS
    ) as connection:
        connection.sendall(raw)
        status, body = split_answer(read_until_closed(connection))
    assert (status, body) == (400, BAD_REQUEST)


def test_a_body_whose_content_coding_does_not_decode_is_400_and_stores_nothing(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    server.call("mina_requestAccounts")
    whole_gzip = gzip.compress(store_call())
    whole_zlib = zlib.compress(store_call())
    undecodable = {
        "not gzip at all": ("gzip", store_call()),
        "not deflate at all": ("deflate", store_call()),
        # A stream cut short would decode to a cut-short call; it is refused whole.
        "gzip cut short": ("gzip", whole_gzip[:-30]),
        "gzip without its trailer": ("gzip", whole_gzip[:-8]),
        "deflate cut short": ("deflate", whole_zlib[:-10]),
        "gzip then garbage": ("gzip", whole_gzip + b"garbage"),
        "deflate then more": ("deflate", whole_zlib + b"\x00"),
        "empty gzip": ("gzip", b""),
    }
    for case, (coding, body) in undecodable.items():
        response = server.post(body, headers={"Content-Encoding": coding})
        assert response.status == 400, case
        assert response.body.startswith(b"Bad Request"), case
    assert server.stored() == []


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def wallet_info_call(request_id: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": "wallet_info", "id": request_id}).encode()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        pytest.param("gzip", gzip.compress, id="gzip"),
        pytest.param("GZip", gzip.compress, id="gzip in capitals"),
        pytest.param("deflate", zlib.compress, id="deflate (zlib)"),
        pytest.param("deflate", raw_deflate, id="deflate (raw)"),
        pytest.param("identity", bytes, id="identity"),
        pytest.param("identity, gzip", gzip.compress, id="identity then gzip"),
        pytest.param(
            "gzip", lambda data: gzip.compress(data[:10]) + gzip.compress(data[10:]), id="2 members"
        ),
    ],
)
def test_gzip_deflate_and_identity_bodies_are_read(
    shared_in_process_server: Server, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    response = shared_in_process_server.post(
        encode(wallet_info_call(3)), headers={"Content-Encoding": coding}
    )
    assert response.status == 200
    assert response.json()["id"] == 3


@pytest.mark.parametrize(
    "coding", ["br", "zstd", "compress", "x-gzip", "aes128gcm", "gzip, gzip", "gzip, deflate"]
)
def test_any_other_content_coding_is_415_and_stores_nothing(
    make_in_process_server: InProcessServerFactory, coding: str
) -> None:
    server = make_in_process_server()
    server.call("mina_requestAccounts")
    response = server.post(store_call(), headers={"Content-Encoding": coding})
    assert response.status == 415
    assert server.stored() == []


def test_a_body_that_decodes_past_max_body_bytes_is_413(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"server": {"max_body_bytes": 4096}})
    padded = b'{"jsonrpc": "2.0", "method": "wallet_info", "id": 1, "pad": "' + b" " * 5000 + b'"}'
    assert len(gzip.compress(padded)) < 4096
    for coding, encode in [("gzip", gzip.compress), ("deflate", zlib.compress)]:
        response = server.post(encode(padded), headers={"Content-Encoding": coding})
        assert (response.status, response.body) == (413, b"Request body too large\n"), coding
    # Two megabytes of zeros in two kilobytes: refused at the limit, not inflated whole.
    bomb = gzip.compress(bytes(2 << 20))
    assert len(bomb) < 4096
    response = server.post(bomb, headers={"Content-Encoding": "gzip"})
    assert response.status == 413


chunk_sizes = st.one_of(
    st.just("exact"),
    st.just("short"),
    st.sampled_from(["zz", "-1", "0x5", " ", ""]),
)


@FUZZ_SETTINGS
@given(chunks=st.lists(st.tuples(chunk_sizes, st.binary(min_size=2, max_size=40)), max_size=4))
def test_any_chunking_of_a_dispatched_body_gets_a_clean_answer(
    shared_in_process_server: Server, chunks: list[tuple[str, bytes]]
) -> None:
    """Chunks whose size line is right, too small or no number at all: every body
    ends, well formed or broken, so the server must answer each one."""
    body = b""
    for size, data in chunks:
        declared = {"exact": f"{len(data):x}", "short": f"{len(data) - 1:x}"}.get(size, size)
        body += declared.encode("ascii") + b"\r\n" + data + b"\r\n"
    status, answer = send_body_once_its_request_is_dispatched(
        shared_in_process_server, body + b"0\r\n\r\n"
    )
    assert_clean_answer(status, answer)
