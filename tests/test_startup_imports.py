"""What each process imports: the CLI's parser, serve's schema check, a signature worker."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import sqlite_only
from tests.operations_support import store
from tests.support import Server, child_environment, run_cli_here
from wallet_rpc import __version__
from wallet_rpc.mina.worker import EXAMPLE_CREDENTIAL, SERVER_CHECK_SECONDS
from wallet_rpc.storage.database import SCHEMA_HEAD, alembic_config

# Workers look for the server every SERVER_CHECK_SECONDS; this leaves room for a busy machine.
WORKER_EXIT_SECONDS = 30 * SERVER_CHECK_SECONDS

# What only serving (or a command that opens the database) needs.
HEAVY = (
    "aiohttp",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "cryptography",
    "prometheus_client",
    "wallet_rpc.http",
    "wallet_rpc.storage",
    "wallet_rpc.service",
    # The Mina tables: the Poseidon constants and the signature code.
    "wallet_rpc.mina.poseidon",
    "wallet_rpc.mina.signature",
)


def loaded(module_names: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in module_names
        if any(name == package or name.startswith(package + ".") for package in packages)
    )


def imported_by(*arguments: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`python -X importtime -m wallet_rpc ARGUMENTS`, and the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wallet_rpc", *arguments],
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=120,
        check=False,
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    return result, names


@pytest.mark.parametrize("command", [["--version"], ["--help"], ["credentials", "--help"]])
def test_version_and_help_import_only_the_parser(command: list[str]) -> None:
    result, modules = imported_by(*command)
    assert result.returncode == 0, result.stderr
    assert "wallet_rpc.cli" in modules  # the trace did record the command's imports
    assert loaded(modules, HEAVY) == []
    if command == ["--version"]:
        assert result.stdout.strip() == f"wallet-rpc {__version__}"


def test_schema_head_is_the_newest_migration(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(f"sqlite:///{tmp_path / 'w.db'}"))
    assert scripts.get_current_head() == SCHEMA_HEAD


MIGRATE_THEN_LIST_MODULES = """
import asyncio, json, sys
from wallet_rpc.storage.database import Database

async def migrate(url):
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.close()

for url in sys.argv[1:]:
    asyncio.run(migrate(url))
print(json.dumps(sorted(sys.modules)))
"""


def migrate_in_a_process(*urls: str) -> list[str]:
    """Migrate each database in turn in one new process; the modules it ended with."""
    result = subprocess.run(
        [sys.executable, "-c", MIGRATE_THEN_LIST_MODULES, *urls],
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=120,
        check=True,
    )
    names: list[str] = json.loads(result.stdout)
    return names


def test_alembic_loads_only_for_a_schema_behind(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    behind, fresh = tmp_path / "behind.db", tmp_path / "fresh.db"
    engine = create_engine(f"sqlite:///{behind}")
    with engine.begin() as connection:
        config = alembic_config(f"sqlite:///{behind}")
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    engine.dispose()
    assert "alembic" in migrate_in_a_process(f"sqlite+aiosqlite:///{behind}")
    assert "alembic" in migrate_in_a_process(f"sqlite+aiosqlite:///{fresh}")
    for database in (behind, fresh):
        with sqlite3.connect(database) as connection:
            [[revision]] = connection.execute("SELECT version_num FROM alembic_version")
        assert revision == SCHEMA_HEAD
    # At the head, a query says so and Alembic stays unloaded; SQLite needs
    # no async engine, whose extension would load the ORM. Both in one process:
    # neither may load them.
    modules = migrate_in_a_process(*(f"sqlite+aiosqlite:///{path}" for path in (behind, fresh)))
    assert loaded(modules, ("alembic", "sqlalchemy.orm", "sqlalchemy.ext.asyncio")) == []


def test_a_read_only_command_on_a_current_database_does_not_load_alembic(
    tmp_path: Path,
) -> None:
    config = tmp_path / "wallet-rpc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "wallet.db"}"\n', encoding="utf-8"
    )
    migrated = run_cli_here("migrate", "--config", str(config))  # set-up: its imports do not count
    assert migrated.returncode == 0, migrated.stderr
    listed, modules = imported_by("credentials", "list", "--json", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert loaded(modules, ("alembic", "sqlalchemy.orm", "aiohttp")) == []


# Started as the `wallet-rpc` console script is: a file whose only import at the
# top is the CLI, run as __main__, which multiprocessing also runs in each worker.
POOL_SCRIPT = """
import sys
from wallet_rpc.cli import main

if __name__ == "__main__":
    import asyncio
    import json

    from wallet_rpc.mina.worker import EXAMPLE_CREDENTIAL, check
    from wallet_rpc.service.verification import SignaturePool

    async def ask_a_worker():
        pool = SignaturePool()
        pool.start()
        try:
            verified = await pool.run(check, EXAMPLE_CREDENTIAL)
            modules = await pool.run(eval, "sorted(__import__('sys').modules)")
        finally:
            pool.close()
        return {"modules": modules, "verified": verified}

    print(json.dumps(asyncio.run(ask_a_worker())))
"""


def test_a_signature_worker_imports_only_wallet_rpc_mina(tmp_path: Path) -> None:
    script = tmp_path / "wallet-rpc-like.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["verified"] is True
    modules: list[str] = answer["modules"]
    assert "wallet_rpc.mina.signature" in modules
    assert loaded(modules, HEAVY[:-2]) == []
    # Besides wallet_rpc.mina, only what the console script itself imports (the CLI's parser).
    ours = loaded(modules, ("wallet_rpc",))
    assert [name for name in ours if name.startswith(("wallet_rpc.mina", "wallet_rpc.cli"))] == [
        name for name in ours if name != "wallet_rpc"
    ]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux's pidfd_open")
@sqlite_only  # the workers know nothing of the database
def test_signature_workers_leave_with_a_server_killed_by_sigkill(server: Server) -> None:
    server.call("mina_requestAccounts")
    assert store(server, dict(EXAMPLE_CREDENTIAL))["result"]
    assert server.process is not None
    helpers = descendants(server.process.pid)
    assert helpers  # the fork server and its workers
    # A pidfd becomes readable when its process ends: the signal to wait for.
    exits = [os.pidfd_open(pid) for pid in helpers]
    try:
        server.kill()
        for pidfd in exits:
            readable, _, _ = select.select([pidfd], [], [], WORKER_EXIT_SECONDS)
            assert readable == [pidfd]
    finally:
        for pidfd in exits:
            os.close(pidfd)
