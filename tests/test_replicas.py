"""Several server processes on one database behave as one wallet.

Each test runs on SQLite (several processes on one file) and on PostgreSQL
(the deployment with replicas); the PostgreSQL-only ones say so. One of the
replicas may be served from the test's own process: it is a process apart
from the `wallet-rpc serve` ones all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig

from tests.conftest import (
    InProcessServerFactory,
    ServerFactory,
    base_settings,
    postgres_only,
)
from tests.databases import PostgresCluster
from tests.in_process import InProcessServer
from tests.support import (
    ALLOWED_ORIGIN,
    REPO,
    WITHOUT_SIGNATURE_WORKERS,
    Server,
    child_environment,
    error_code,
)
from wallet_rpc.storage.database import SCHEMA_HEAD

OWNER = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"


def unsigned_credential(serial: str, note: str | None = None) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "credential": {
            "owner": {"_type": "PublicKey", "value": OWNER},
            "data": {"serial": serial},
        },
    }
    if note is not None:
        credential["metadata"] = {"note": note}
    return credential


def store(server: Server, credential: dict[str, Any]) -> dict[str, Any]:
    return server.call("mina_storePrivateCredential", {"credential": credential})


@pytest.fixture
def replica_here(tmp_path: Path, database_url: str) -> Iterator[InProcessServer]:
    """A replica served from this process, on the database of make_server's replicas."""
    settings = base_settings(database_url) | WITHOUT_SIGNATURE_WORKERS
    replica = InProcessServer(tmp_path / "replica-here", settings)
    replica.start()
    yield replica
    replica.stop()


def test_connect_through_one_store_through_another_list_from_a_third(
    make_server: ServerFactory, replica_here: InProcessServer
) -> None:
    first, second, third = (
        replica_here,
        make_server(WITHOUT_SIGNATURE_WORKERS),
        make_server(WITHOUT_SIGNATURE_WORKERS),
    )
    assert len({first.port, second.port, third.port}) == 3

    assert error_code(store(second, unsigned_credential("before"))) == 1001
    assert first.call("mina_requestAccounts")["result"] == [OWNER]
    assert third.call("mina_accounts")["result"] == [OWNER]

    answer = store(second, unsigned_credential("r-1", note="via second"))
    body = answer["result"]["credential"]
    # The same credential through the third replica: the first answer, one entry.
    assert (
        store(third, unsigned_credential("r-1", note="via third"))["result"]["credential"] == body
    )

    [entry] = first.stored()
    assert entry["origin"] == ALLOWED_ORIGIN
    assert entry["credential"] == json.loads(body)
    assert entry["credential"]["metadata"] == {"note": "via second"}

    assert third.call("wallet_revokePermissions")["result"] == []
    assert first.call("mina_accounts")["result"] == []
    assert error_code(store(second, unsigned_credential("r-2"))) == 1001
    for server in (first, second, third):
        assert server.stop() == 0


async def _send_all_at_once(sends: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Post every (url, call) concurrently; the answers in the same order."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(url: str, call: dict[str, Any]) -> Any:
            async with session.post(url, json=call, headers={"Origin": ALLOWED_ORIGIN}) as reply:
                assert reply.status == 200, await reply.text()
                return await reply.json()

        return await asyncio.gather(*(post(url, call) for url, call in sends))


def test_concurrent_duplicates_through_two_replicas_give_one_entry_each(
    make_server: ServerFactory, replica_here: InProcessServer
) -> None:
    replicas = [replica_here, make_server(WITHOUT_SIGNATURE_WORKERS)]
    replicas[0].call("mina_requestAccounts")
    urls = [f"http://{server.host}:{server.port}/" for server in replicas]
    serials, copies = 40, 6
    sends = [
        (
            # Every credential goes through both replicas, half its copies each.
            urls[(serial + copy) % len(urls)],
            {
                "jsonrpc": "2.0",
                "id": copy * serials + serial,
                "method": "mina_storePrivateCredential",
                # Each copy has its own metadata: every answer must be the first one stored.
                "params": {"credential": unsigned_credential(f"dup-{serial}", f"copy {copy}")},
            },
        )
        for copy in range(copies)
        for serial in range(serials)
    ]
    # Each replica sees the credentials in its own order, so their groups overlap
    # in different orders: the case where two transactions wait for each other.
    random.Random(7).shuffle(sends)
    answers = asyncio.run(_send_all_at_once(sends))

    failures = [answer for answer in answers if "result" not in answer]
    assert failures == []
    bodies_by_serial: dict[str, set[str]] = {}
    for answer in answers:
        body = answer["result"]["credential"]
        bodies_by_serial.setdefault(json.loads(body)["credential"]["data"]["serial"], set()).add(
            body
        )
    assert len(bodies_by_serial) == serials
    assert all(len(bodies) == 1 for bodies in bodies_by_serial.values())

    stored = replicas[1].stored()
    assert len(stored) == serials
    for entry in stored:
        [body] = bodies_by_serial[entry["credential"]["credential"]["data"]["serial"]]
        assert entry["credential"] == json.loads(body)
    for server in replicas:
        assert "Traceback" not in server.log()
        assert server.stop() == 0


def _alembic(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The `alembic` command line on alembic.ini, in a process of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(REPO / "alembic.ini"),
            "-x",
            f"database_url={database_url}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_environment(),
        timeout=120,
        check=False,
    )


def _alembic_here(database_url: str, name: str, *arguments: str) -> str:
    """An Alembic command on alembic.ini, as `_alembic` runs it, in this process; what it printed.

    A command that fails raises (`check` raises AutogenerateDiffsDetected).
    """
    printed = io.StringIO()
    config = AlembicConfig(
        REPO / "alembic.ini",
        stdout=printed,
        cmd_opts=argparse.Namespace(x=[f"database_url={database_url}"]),
    )
    getattr(alembic_command, name)(config, *arguments)
    return printed.getvalue()


@pytest.fixture
def empty_database_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """A database of this test's backend with no schema at all."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    with cluster.empty_database() as name:
        yield cluster.url_of(name)


def test_migration_history_upgrades_downgrades_and_matches_the_tables(
    empty_database_url: str,
) -> None:
    # The first step as an operator runs it; the rest in this process, on the same alembic.ini.
    upgraded = _alembic(empty_database_url, "upgrade", "head")
    assert upgraded.returncode == 0, (upgraded.stdout, upgraded.stderr)
    _alembic_here(empty_database_url, "check")
    _alembic_here(empty_database_url, "downgrade", "base")
    assert _alembic_here(empty_database_url, "current") == ""
    _alembic_here(empty_database_url, "upgrade", "head")
    _alembic_here(empty_database_url, "check")
    head = _alembic_here(empty_database_url, "heads").split()[0]
    assert head == SCHEMA_HEAD
    assert _alembic_here(empty_database_url, "current").split()[0] == head


@pytest.mark.postgres
def test_replicas_starting_together_on_an_empty_database_migrate_once(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    with postgres.empty_database() as name:
        config = tmp_path / "wallet-rpc.toml"
        config.write_text(f'[database]\nurl = "{postgres.url_of(name)}"\n', encoding="utf-8")
        migrations = [
            subprocess.Popen(
                [sys.executable, "-m", "wallet_rpc", "migrate", "--config", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=child_environment(),
            )
            for _ in range(4)
        ]
        for process in migrations:
            stdout, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr
            assert "up to date" in stdout
        [(version,)] = postgres.execute("SELECT version_num FROM alembic_version", database=name)
        assert version == SCHEMA_HEAD


@postgres_only
def test_healthz_is_503_while_the_database_is_gone_and_recovers(
    postgres: PostgresCluster, make_in_process_server: InProcessServerFactory
) -> None:
    server = make_in_process_server(WITHOUT_SIGNATURE_WORKERS)
    assert server.get("/healthz").status == 200
    assert server.call("mina_requestAccounts")["result"] == [OWNER]
    database = server.database_url.rsplit("/", 1)[1]

    postgres.drop_database(database)
    unhealthy = server.get("/healthz")
    assert unhealthy.status == 503
    assert unhealthy.json() == {"status": "unavailable"}
    answer = store(server, unsigned_credential("while-gone"))
    assert answer["error"] == {"code": -32603, "message": "Internal error"}

    postgres.execute(f'CREATE DATABASE "{database}" TEMPLATE "{postgres.template}"')
    assert server.get("/healthz").status == 200
    assert server.call("mina_requestAccounts")["result"] == [OWNER]
    assert store(server, unsigned_credential("after"))["result"]
    assert server.stop() == 0


@postgres_only
def test_connections_the_database_drops_are_replaced_without_an_error(
    postgres: PostgresCluster, make_in_process_server: InProcessServerFactory
) -> None:
    server = make_in_process_server(WITHOUT_SIGNATURE_WORKERS)
    assert server.call("mina_requestAccounts")["result"] == [OWNER]
    assert store(server, unsigned_credential("before"))["result"]
    database = server.database_url.rsplit("/", 1)[1]

    # As a restart or failover of the database server would: every session goes.
    terminated = postgres.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{database}' AND application_name = 'wallet-rpc'"
    )
    assert len(terminated) >= 2  # the read pool's and the writer's

    assert server.call("mina_accounts")["result"] == [OWNER]
    assert store(server, unsigned_credential("after"))["result"]
    assert server.get("/healthz").status == 200
    assert "Traceback" not in server.log()
    assert server.stop() == 0
