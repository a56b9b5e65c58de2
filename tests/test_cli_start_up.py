"""SPEC section 1: read-only commands never write; a start-up that cannot proceed says why."""

from __future__ import annotations

import http.client
import json
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command as alembic_command
from sqlalchemy import create_engine

from tests.databases import PostgresCluster
from tests.support import child_environment, free_port, run_cli, run_cli_here, toml_text
from wallet_rpc.storage.database import alembic_config

READ_ONLY_COMMANDS = [
    ["credentials", "list", "--json"],
    ["credentials", "show", "1"],
    ["audit"],
    ["approvals", "list"],
]


def _config(directory: Path, database_url: str, **server: object) -> Path:
    path = directory / "wallet-rpc.toml"
    settings: dict[str, dict[str, object]] = {"database": {"url": database_url}}
    if server:
        settings["server"] = dict(server)
    path.write_text(toml_text(settings), encoding="utf-8")
    return path


def _refused_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("wallet-rpc: ")
    for word in words:
        assert word in line


def _files(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def _migrated_to(database: Path, revision: str) -> None:
    """An SQLite file by the real migrations, stopped at `revision`."""
    url = f"sqlite:///{database}"
    config = alembic_config(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, revision)
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=" ".join)
def test_reading_a_missing_sqlite_database_creates_nothing(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the relative path points
    config = _config(tmp_path, "sqlite+aiosqlite:///wallet.db")
    before = _files(tmp_path)

    result = run_cli_here(*command, "--config", str(config))

    _refused_in_one_line(result, "no database at", str(tmp_path / "wallet.db"), "migrate")
    assert _files(tmp_path) == before


def test_reading_a_database_behind_the_latest_revision_leaves_it_behind(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    _migrated_to(database, "0003")
    config = _config(tmp_path, f"sqlite+aiosqlite:///{database}")

    for command in READ_ONLY_COMMANDS:
        result = run_cli_here(*command, "--config", str(config))
        _refused_in_one_line(result, "revision 0003", "not the latest", "wallet-rpc migrate")

    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0003",)
        ]
    migrated = run_cli("migrate", "--config", str(config), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    listed = run_cli_here("credentials", "list", "--json", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]"


def test_reading_an_sqlite_file_without_the_schema_adds_none(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    config = _config(tmp_path, f"sqlite+aiosqlite:///{database}")

    for command in READ_ONLY_COMMANDS:
        result = run_cli_here(*command, "--config", str(config))
        _refused_in_one_line(result, "has no wallet-rpc schema")

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert tables == {"notes"}


@pytest.mark.postgres
def test_reading_a_postgres_database_without_the_schema_adds_none(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    with postgres.empty_database() as name:
        config = _config(tmp_path, postgres.url_of(name))
        for command in READ_ONLY_COMMANDS:
            result = run_cli_here(*command, "--config", str(config))
            _refused_in_one_line(result, "has no wallet-rpc schema")
        tables = postgres.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=name
        )
        assert tables == []


def _serve(
    config: Path, cwd: Path, limit_file_size: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        # Writes past the limit fail (EFBIG) as on a full disk, instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert limit_file_size is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run(
        [sys.executable, "-m", "wallet_rpc", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=child_environment(),
        timeout=120,
        check=False,
        preexec_fn=None if limit_file_size is None else limited,
    )


def _stopped_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "serving on" not in result.stdout
    assert "Traceback" not in result.stderr
    # Alembic's INFO lines may come first; the reason is one line of ours.
    [line] = [line for line in result.stderr.splitlines() if line.startswith("wallet-rpc")]
    for word in words:
        assert word in line, line


def test_a_busy_port_stops_start_up_in_one_line_before_any_serving_on(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config(
            tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}", host="127.0.0.1", port=port
        )
        result = _serve(config, tmp_path)
    _stopped_in_one_line(result, f"cannot listen on 127.0.0.1:{port}", "Address already in use")


def test_a_database_that_cannot_be_created_stops_start_up_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("", encoding="utf-8")
    database = tmp_path / "not-a-directory" / "wallet.db"
    config = _config(tmp_path, f"sqlite+aiosqlite:///{database}", port=free_port())

    result = _serve(config, tmp_path)

    _stopped_in_one_line(result, f"cannot open the database at {database}", "unable to open")


def test_a_full_disk_stops_start_up_in_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}", port=free_port())

    result = _serve(config, tmp_path, limit_file_size=32 * 1024)

    _stopped_in_one_line(result, "cannot open the database at")


def test_serving_on_is_printed_once_the_server_listens_and_sigterm_stops_it(
    tmp_path: Path, database_url: str
) -> None:
    """Also: --host and --port override the file's [server], and SIGTERM exits with 0."""
    port, file_port = free_port(), free_port()
    config = _config(tmp_path, database_url, host="0.0.0.0", port=file_port)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wallet_rpc",
            "serve",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=child_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.endswith(f"serving on http://127.0.0.1:{port}/\n")
        # Printed after the bind: the first connection attempt is accepted, no retry.
        with socket.create_connection(("127.0.0.1", port), timeout=30):
            pass
        health = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            health.request("GET", "/healthz")
            reply = health.getresponse()
            assert (reply.status, json.loads(reply.read())) == (200, {"status": "ok"})
        finally:
            health.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
