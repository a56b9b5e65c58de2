"""The command line, the config file, start-up and shutdown, internal faults."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.databases import drop_table
from tests.support import REPO, Server, error_code, run_cli, run_cli_here
from wallet_rpc.config import builtin_defaults, load_config


def test_example_config_loads_and_equals_builtin_defaults() -> None:
    assert load_config(REPO / "config.example.toml") == builtin_defaults()


def test_empty_config_refuses_requests_without_origin(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_config(empty).security.default_origin is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[server]\nprot = 1\n", "server.prot"),
        ("[server]\nport = 'eighty'\n", "server.port"),
        ("[serverr]\n", "serverr"),
        ("[approval]\nmode = 'sometimes'\n", "approval.mode"),
        ("[database]\nurl = 'mysql://x'\n", "database.url"),
        ("[wallet]\naccounts = ['B62qnotakey']\n", "wallet.accounts"),
        ("[security]\nallowed_origins = ['localhost/path']\n", "security.allowed_origins"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_bad_config_stops_with_one_line_and_status_2(
    tmp_path: Path, text: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process: the config is refused before any command runs. A process
    # refusing a config is test_unreadable_config_stops_with_status_2's.
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    # A host no socket binds: should the config pass, serve fails instead of serving on.
    for command in (["serve", "--host", "256.0.0.1"], ["migrate"], ["credentials", "list"]):
        result = run_cli_here(*command, "--config", str(config))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert named in lines[0]
        assert "Traceback" not in result.stderr


def test_unreadable_config_stops_with_status_2(tmp_path: Path) -> None:
    result = run_cli("serve", "--config", str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "missing.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["migrate"], ["credentials"], ["credentials", "list"], ["credentials", "show"]],
)
def test_help_reads_well(command: list[str]) -> None:
    # In this process; test_startup_imports runs --help as a process.
    result = run_cli_here(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: wallet-rpc")
    assert "--config" in result.stdout or "COMMAND" in result.stdout or "ACTION" in result.stdout


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    database = tmp_path / "fresh.db"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n', encoding="utf-8")
    result = run_cli("migrate", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"credentials", "connections", "alembic_version"} <= tables


def test_credentials_show_and_delete_unknown_id(in_process_server: Server) -> None:
    server = in_process_server
    for action in ("show", "delete"):
        result = server.cli_here("credentials", action, "999")
        assert result.returncode == 1
        assert "no credential with id 999" in result.stderr


def test_storage_fault_is_internal_error_without_detail(in_process_server: Server) -> None:
    server = in_process_server
    assert server.call("mina_requestAccounts")["result"]
    drop_table(server.database_url, "connections")
    for method in ("wallet_revokePermissions", "mina_requestAccounts"):
        answer: dict[str, Any] = server.call(method)
        assert answer["error"] == {"code": -32603, "message": "Internal error"}
        assert error_code(answer) == -32603
    assert (
        "connections"
        not in server.post(
            {"jsonrpc": "2.0", "method": "mina_requestAccounts", "id": 1}
        ).body.decode()
    )
