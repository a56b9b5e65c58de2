"""Real storage faults while serving: a full disk, another process's lock, a read-only or
removed file, PostgreSQL restarting.

Each test checks what clients get (-32001 with the reason, never -32603), that /healthz
tells the truth, that reads answer within a second (a client deadline of one second
that must not expire), that the fault's end needs no restart, and that every store
acknowledged is still there after one. Mounts and file attributes need root: elsewhere
these tests are skipped with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.client
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import base_settings
from tests.support import (
    ALLOWED_ORIGIN,
    WITHOUT_SIGNATURE_WORKERS,
    Server,
    free_port,
    merge,
    run_cli,
)
from tests.test_durability import store_call, stored_bodies, unsigned_credential

STORAGE_UNAVAILABLE = -32001
READ_DEADLINE_SECONDS = 1.0
DISK_FULL = "the disk holding the database is full"
READ_ONLY = "the database is read-only"
LOCKED = "the database is locked by another process"
FILE_GONE = "the database file is no longer at its path"
UNREACHABLE = "the database server cannot be reached"


def needs_root(what: str) -> None:
    """Skip (fail under CI=true) a test that needs root for `what`."""
    if os.geteuid() == 0:
        return
    reason = f"{what} needs root"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def privileged(*command: str) -> None:
    """Run a mount/chattr command; skip (fail under CI=true) when the machine refuses it."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        reason = f"`{' '.join(command)}` failed: {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str) -> Iterator[Path]:
    needs_root("mounting a tmpfs")
    directory.mkdir()
    privileged("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory))
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, timeout=60)


def call_within(server: Server, method: str, params: Any = None) -> dict[str, Any]:
    """One call that must be answered within READ_DEADLINE_SECONDS (else a timeout error)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        message["params"] = params
    connection = http.client.HTTPConnection(server.host, server.port, timeout=READ_DEADLINE_SECONDS)
    try:
        connection.request(
            "POST",
            "/",
            body=json.dumps(message).encode(),
            headers={"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN},
        )
        reply = connection.getresponse()
        assert reply.status == 200
        answer: dict[str, Any] = json.loads(reply.read())
        return answer
    finally:
        connection.close()


def health_within(server: Server) -> int:
    """GET /healthz, answered within READ_DEADLINE_SECONDS; its status, body checked."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=READ_DEADLINE_SECONDS)
    try:
        connection.request("GET", "/healthz")
        reply = connection.getresponse()
        body = json.loads(reply.read())
    finally:
        connection.close()
    assert body == {"status": "ok" if reply.status == 200 else "unavailable"}
    assert reply.status in (200, 503)
    return reply.status


class Client:
    """Stores through a server, remembering each answer it acknowledged."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.acknowledged: dict[str, str] = {}

    def store(self, serial: str) -> dict[str, Any]:
        answer = self.server.call(
            "mina_storePrivateCredential", {"credential": unsigned_credential(serial)}
        )
        if "result" in answer:
            self.acknowledged[serial] = answer["result"]["credential"]
        return answer

    def assert_reads_answer(self) -> None:
        assert call_within(self.server, "mina_accounts")["result"], "reads must keep working"

    def assert_refused(self, answer: dict[str, Any], reason: str) -> None:
        assert answer["error"] == {
            "code": STORAGE_UNAVAILABLE,
            "message": "Storage unavailable",
            "data": {"reason": reason},
        }, answer

    def assert_nothing_acknowledged_lost(self) -> None:
        """Restart the server and list: every acknowledged store is there, as answered."""
        assert self.server.stop() == 0
        self.server.start()
        stored = stored_bodies(self.server)
        for serial, body in self.acknowledged.items():
            assert stored.get(serial) == body, serial
        assert "Traceback" not in self.server.log()


def start_server(tmp_path: Path, database_file: Path, **database: Any) -> Server:
    settings = base_settings(f"sqlite+aiosqlite:///{database_file}")
    merge(settings, {"database": database, **WITHOUT_SIGNATURE_WORKERS})
    server = Server(tmp_path / "server", settings).start()
    server.call("mina_requestAccounts")
    return server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts; stopped at its end, before its mounts go."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _write_forever(descriptor: int) -> None:
    while True:
        os.write(descriptor, b"\0" * 65536)


def fill(filler: Path) -> None:
    """Write `filler` until its file system has no room left."""
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError, match="No space left") as raised:
            _write_forever(descriptor)
    finally:
        os.close(descriptor)
    assert raised.value.errno == errno.ENOSPC


def test_a_full_disk_refuses_writes_until_space_is_freed(
    tmp_path: Path, servers: list[Server]
) -> None:
    with small_tmpfs(tmp_path / "disk", "2m") as disk:
        server = start_server(tmp_path, disk / "wallet.db")
        servers.append(server)
        client = Client(server)
        for index in range(5):
            assert "result" in client.store(f"before-{index}")
        filler = disk / "filler"
        fill(filler)
        # The WAL may still have room from earlier commits: store until it has none.
        refused = None
        for index in range(2000):
            answer = client.store(f"full-{index}")
            if "error" in answer:
                refused = f"full-{index}"
                client.assert_refused(answer, DISK_FULL)
                break
        assert refused is not None, "the disk never filled"
        assert health_within(server) == 503
        client.assert_reads_answer()
        client.assert_refused(client.store("still-full"), DISK_FULL)
        assert health_within(server) == 503

        filler.unlink()
        assert "result" in client.store(refused), "the same request succeeds once there is room"
        assert health_within(server) == 200
        assert "result" in client.store("after")
        client.assert_nothing_acknowledged_lost()


HOLD_THE_WRITE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


def test_another_process_holding_the_lock_past_the_busy_timeout(
    tmp_path: Path, servers: list[Server]
) -> None:
    busy_timeout = 3
    database_file = tmp_path / "data" / "wallet.db"
    database_file.parent.mkdir()
    server = start_server(tmp_path, database_file, busy_timeout_seconds=busy_timeout)
    servers.append(server)
    client = Client(server)
    assert "result" in client.store("before")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(database_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline() == "locked\n"

        async def store_while_reading() -> dict[str, Any]:
            waiting = asyncio.create_task(asyncio.to_thread(client.store, "while-locked"))
            # While that store waits for the lock, the event loop keeps answering.
            while not waiting.done():
                await asyncio.to_thread(client.assert_reads_answer)
                await asyncio.to_thread(health_within, server)
            return await waiting

        try:
            client.assert_refused(asyncio.run(store_while_reading()), LOCKED)
            assert health_within(server) == 503
            client.assert_reads_answer()
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.wait(timeout=30) == 0
    assert "result" in client.store("while-locked"), "the same request succeeds after"
    assert health_within(server) == 200
    client.assert_nothing_acknowledged_lost()


@contextlib.contextmanager
def read_only(kind: str, database_file: Path) -> Iterator[None]:
    """The database file made immutable (chattr +i), or its directory a read-only bind
    mount: root's writes are refused either way, where permission bits would not be."""
    needs_root("making a file read-only for root")
    if kind == "file":
        privileged("chattr", "+i", str(database_file))
        undo = ["chattr", "-i", str(database_file)]
    else:
        directory = str(database_file.parent)
        privileged("mount", "--bind", directory, directory)
        undo = ["umount", directory]
        try:
            privileged("mount", "-o", "remount,bind,ro", directory)
        except BaseException:
            subprocess.run(undo, check=False, timeout=60)
            raise
    try:
        yield
    finally:
        subprocess.run(undo, check=True, timeout=60)


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_read_only_database_refuses_writes_until_writable_again(
    tmp_path: Path, servers: list[Server], kind: str
) -> None:
    database_file = tmp_path / "data" / "wallet.db"
    database_file.parent.mkdir()
    server = start_server(tmp_path, database_file)
    servers.append(server)
    client = Client(server)
    assert "result" in client.store("before")
    with read_only(kind, database_file):
        client.assert_refused(client.store("read-only"), READ_ONLY)
        assert health_within(server) == 503
        client.assert_reads_answer()
    assert "result" in client.store("read-only"), "the same request succeeds after"
    assert health_within(server) == 200
    client.assert_nothing_acknowledged_lost()


def test_a_removed_database_file_is_noticed_and_nothing_goes_into_it(
    tmp_path: Path, servers: list[Server]
) -> None:
    database_file = tmp_path / "data" / "wallet.db"
    database_file.parent.mkdir()
    server = start_server(tmp_path, database_file)
    servers.append(server)
    client = Client(server)
    for index in range(5):
        assert "result" in client.store(f"before-{index}")
    # A second name keeps the file, so that it can be put back.
    kept = database_file.with_name("kept.db")
    os.link(database_file, kept)
    database_file.unlink()
    assert health_within(server) == 503, "503 while the file is gone, before any write"
    client.assert_reads_answer()
    client.assert_refused(client.store("while-gone"), FILE_GONE)
    client.assert_refused(client.store("never-retried"), FILE_GONE)
    assert not database_file.exists(), "no new, empty file at the path"
    assert health_within(server) == 503

    os.link(kept, database_file)
    kept.unlink()
    assert "result" in client.store("while-gone"), "the same request succeeds after"
    assert health_within(server) == 200
    client.assert_nothing_acknowledged_lost()
    assert "never-retried" not in stored_bodies(server), "a refused store left nothing"


def test_start_up_on_a_database_it_cannot_write_stops_with_one_line(tmp_path: Path) -> None:
    database_file = tmp_path / "data" / "wallet.db"
    database_file.parent.mkdir()
    server = Server(tmp_path / "server", base_settings(f"sqlite+aiosqlite:///{database_file}"))
    server.write_config()
    assert server.cli("migrate").returncode == 0
    with read_only("file", database_file):
        served = run_cli("serve", "--config", str(server.config_path), timeout=120)
    assert served.returncode != 0
    assert "Traceback" not in served.stderr + served.stdout
    last_line = served.stderr.strip().splitlines()[-1]
    assert last_line.startswith("wallet-rpc: ")
    assert last_line.endswith(f"storage unavailable: {READ_ONLY}")


async def store_burst(url: str, prefix: str, until: asyncio.Event) -> list[dict[str, Any]]:
    """Stores from 16 clients until `until` is set; every answer, with its serial."""
    answers: list[dict[str, Any]] = []

    async def one_client(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            index = 0
            while not until.is_set():
                serial = f"{prefix}-{number}-{index}"
                index += 1
                async with session.post(
                    url,
                    json=store_call(unsigned_credential(serial), index),
                    headers={"Origin": ALLOWED_ORIGIN},
                ) as reply:
                    assert reply.status == 200
                    answers.append({"serial": serial, **await reply.json()})

    await asyncio.gather(*(one_client(number) for number in range(16)))
    return answers


@pytest.fixture
def own_postgres_cluster() -> Iterator[tuple[str, str]]:
    """A PostgreSQL cluster of this test's own: (its name, a database URL on it).

    Restarting the suite's shared server would cut the connections of tests
    running beside this one; a cluster made for the test is restarted alone.
    """
    needs_root("a PostgreSQL cluster of its own")
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster"):
        if shutil.which(tool) is None:
            reason = f"{tool} not found (Debian's postgresql-common)"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
    name = f"wallet_rpc_fault_{os.getpid()}"
    port = free_port()
    privileged("pg_createcluster", "15", name, "--port", str(port), "--start")
    try:
        setup = "CREATE ROLE fault LOGIN PASSWORD 'fault'; CREATE DATABASE fault OWNER fault;"
        for statement in setup.split(";"):
            if statement.strip():
                # Over the cluster's socket, as the postgres user (peer authentication).
                as_postgres = ("runuser", "-u", "postgres", "--")
                privileged(*as_postgres, "psql", "-q", "-p", str(port), "-c", statement)
        yield name, f"postgresql+asyncpg://fault:fault@127.0.0.1:{port}/fault"
    finally:
        subprocess.run(
            ["pg_dropcluster", "15", name, "--stop"], capture_output=True, check=False, timeout=120
        )


@pytest.mark.slow
def test_postgresql_restarting_under_a_burst_of_stores(
    tmp_path: Path, own_postgres_cluster: tuple[str, str], servers: list[Server]
) -> None:
    cluster, database_url = own_postgres_cluster
    settings = base_settings(database_url)
    merge(settings, WITHOUT_SIGNATURE_WORKERS)
    server = Server(tmp_path / "server", settings).start()
    servers.append(server)
    server.call("mina_requestAccounts")
    client = Client(server)

    async def burst_across_a_restart() -> list[dict[str, Any]]:
        done = asyncio.Event()
        burst = asyncio.create_task(
            store_burst(f"http://{server.host}:{server.port}/", "burst", done)
        )
        restart = await asyncio.create_subprocess_exec("pg_ctlcluster", "15", cluster, "restart")
        # While it restarts, reads and /healthz still answer within the deadline.
        while restart.returncode is None:
            await asyncio.to_thread(call_within, server, "mina_accounts")
            await asyncio.to_thread(health_within, server)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(restart.wait(), 0.2)
        assert restart.returncode == 0
        done.set()
        return await burst

    answers = asyncio.run(burst_across_a_restart())
    codes = {answer["error"]["code"] for answer in answers if "error" in answer}
    assert codes <= {STORAGE_UNAVAILABLE}, codes
    for answer in answers:
        if "error" in answer:
            assert answer["error"]["data"]["reason"] == UNREACHABLE
        else:
            client.acknowledged[answer["serial"]] = answer["result"]["credential"]
    assert client.acknowledged, "nothing was stored around the restart"
    # The server recovers by itself: stores succeed without a restart.
    assert "result" in client.store("after-restart")
    assert health_within(server) == 200
    client.assert_nothing_acknowledged_lost()
