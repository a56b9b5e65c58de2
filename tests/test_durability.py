"""The store's guarantees: nothing acknowledged is lost, concurrency surfaces no storage error."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ServerFactory, sqlite_only
from tests.support import ALLOWED_ORIGIN, WITHOUT_SIGNATURE_WORKERS, Server

OWNER = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"


def unsigned_credential(serial: str) -> dict[str, Any]:
    return {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "credential": {
            "owner": {"_type": "PublicKey", "value": OWNER},
            "data": {"serial": serial, "level": {"_type": "UInt32", "value": "7"}},
        },
    }


def store_call(credential: dict[str, Any], request_id: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "mina_storePrivateCredential",
        "params": {"credential": credential},
    }


async def post(session: aiohttp.ClientSession, url: str, message: Any) -> Any:
    async with session.post(url, json=message, headers={"Origin": ALLOWED_ORIGIN}) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.json()


def stored_bodies(server: Server) -> dict[str, str]:
    """Stored answer strings, keyed by the credential's serial."""
    return {
        entry["credential"]["credential"]["data"]["serial"]: json.dumps(
            entry["credential"], separators=(",", ":"), ensure_ascii=False
        )
        for entry in server.stored()
    }


async def store_until_killed(
    url: str, prefix: str, clients: int, acknowledged: dict[str, str]
) -> None:
    async def client(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            for index in range(100_000):
                serial = f"{prefix}-{number}-{index}"
                try:
                    answer = await post(
                        session, url, store_call(unsigned_credential(serial), index)
                    )
                except (aiohttp.ClientError, AssertionError):
                    return
                acknowledged[serial] = answer["result"]["credential"]

    await asyncio.gather(*(client(number) for number in range(clients)))


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_credential(make_server: ServerFactory) -> None:
    server = make_server(WITHOUT_SIGNATURE_WORKERS)
    server.call("mina_requestAccounts")
    acknowledged: dict[str, str] = {}
    rounds = 3
    for round_number in range(rounds):
        url = f"http://{server.host}:{server.port}/"
        killer = threading.Timer(random.uniform(0.3, 1.5), server.kill)
        killer.start()
        asyncio.run(store_until_killed(url, f"round{round_number}", 32, acknowledged))
        killer.join()
        server.start()
    stored = stored_bodies(server)
    assert len(acknowledged) > rounds * 10, "the server acknowledged too little to prove anything"
    for serial, answer in acknowledged.items():
        assert stored.get(serial) == answer
    # Every stored entry is one some client sent; at most the in-flight ones were never answered.
    assert set(stored) >= set(acknowledged)
    assert "Traceback" not in server.log()


async def concurrent_stores(url: str, count: int) -> list[Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        calls = [
            store_call(unsigned_credential(f"load-{index % (count // 2)}"), index)
            for index in range(count)
        ]
        return await asyncio.gather(*(post(session, url, call) for call in calls))


@pytest.mark.slow
def test_a_thousand_concurrent_stores_all_succeed_once(in_process_server: Server) -> None:
    server = in_process_server
    server.call("mina_requestAccounts")
    answers = asyncio.run(concurrent_stores(f"http://{server.host}:{server.port}/", 1000))
    assert all("result" in answer for answer in answers), [a for a in answers if "error" in a][:3]
    by_serial: dict[str, set[str]] = {}
    for answer in answers:
        body = answer["result"]["credential"]
        serial = json.loads(body)["credential"]["data"]["serial"]
        by_serial.setdefault(serial, set()).add(body)
    assert len(by_serial) == 500
    assert all(len(bodies) == 1 for bodies in by_serial.values())
    stored = stored_bodies(server)
    assert len(server.stored()) == 500
    assert {serial: next(iter(bodies)) for serial, bodies in by_serial.items()} == stored
    assert "database is locked" not in server.log()


@sqlite_only
def test_the_write_ahead_log_starts_over_while_stores_keep_coming(
    in_process_server: Server,
) -> None:
    """Checkpoints run beside the writer, not in its commits; the WAL must still restart."""
    server = in_process_server
    server.call("mina_requestAccounts")
    wal = Path(server.database_url.removeprefix("sqlite+aiosqlite:///") + "-wal")
    for index in range(400):
        answer = server.call(
            "mina_storePrivateCredential", {"credential": unsigned_credential(f"wal-{index}")}
        )
        assert "result" in answer, answer
    # Each store is a commit of its own appending a few 4 KiB pages: never
    # restarted, the WAL would hold 400 commits' pages; SQLite's own
    # checkpoints let it reach 1000 pages before restarting.
    assert wal.stat().st_size < 1000 * 4096
    assert len(server.stored()) == 400
