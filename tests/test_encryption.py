"""Encryption at rest: nothing of a credential in clear on disk, wrong keys refused, rekey."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.approval_support import ACCOUNT, Caller, answer, pending_store, prompt_settings
from tests.conftest import InProcessServerFactory, base_settings
from tests.in_process import InProcessServer
from tests.operations_support import (
    KEY_A,
    KEY_B,
    OTHER_OWNER,
    store,
    store_many,
    unsigned_credential,
    with_key,
)
from tests.support import (
    WITHOUT_SIGNATURE_WORKERS,
    Server,
    child_environment,
    run_cli,
    run_cli_here,
    seed_credential,
)
from wallet_rpc.cli.operations import NEW_KEY_VARIABLE


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, str) else []


def _serve_status(server: Server, environment: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit status and last stderr line of a `serve` process that is expected not to start."""
    # Without signature workers: the key is refused before any signature is checked.
    without_workers = {"WALLET_RPC_VERIFICATION_NATIVE": "false"}
    ran = run_cli(
        "serve",
        "--config",
        str(server.config_path),
        cwd=server.workdir,
        environment=without_workers | (environment or {}),
    )
    lines = ran.stderr.strip().splitlines()
    return ran.returncode, lines[-1] if lines else ""


def _found_in_files(server: Server, values: set[str]) -> list[str]:
    """Which of the values the SQLite database's files (and its WAL) hold in clear."""
    database = Path(server.database_url.split(":///", 1)[1])
    files = [path for path in (database, Path(f"{database}-wal")) if path.exists()]
    raw = b"".join(path.read_bytes() for path in files)
    assert len(raw) > 0
    return sorted(value for value in values if value.encode() in raw)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Any:
    started: list[Server] = []

    def start(settings: dict[str, dict[str, Any]], kind: type[Server] = InProcessServer) -> Server:
        base = base_settings(f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}")
        for section, values in settings.items():
            base.setdefault(section, {}).update(values)
        server = kind(tmp_path / f"server{len(started)}", base)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def test_the_database_file_holds_no_credential_value_in_clear(sqlite_server: Any) -> None:
    server: Server = sqlite_server({"storage": {"encryption_key": KEY_A}})
    server.call("mina_requestAccounts")
    credentials = [seed_credential(), *(unsigned_credential(f"zebra{n}") for n in range(3))]
    answers = [store(server, credential)["result"] for credential in credentials]
    assert server.stop() == 0

    values = {leaf for credential in credentials for leaf in _leaves(credential)}
    # The seed's owner is the wallet's own account (in `connections`); "v0", the
    # _type names and short words are not credential data worth a grep.
    values -= {seed_credential()["credential"]["owner"]["value"]}
    distinctive = {value for value in values if len(value) >= 6}
    assert OTHER_OWNER in distinctive
    assert "zebra0-metadata-note" in distinctive
    assert _found_in_files(server, distinctive) == []

    # Restarted with the key, everything reads back, and duplicates still meet.
    server.start()
    listed = server.stored()
    assert [entry["credential"] for entry in listed] == credentials
    assert [entry["owner"] for entry in listed] == [listed[0]["owner"], *[OTHER_OWNER] * 3]
    assert [entry["witness_type"] for entry in listed] == ["native", *["unsigned"] * 3]
    assert [store(server, credential)["result"] for credential in credentials] == answers
    assert len(server.stored()) == 4


def test_a_store_waiting_for_a_decision_is_sealed_too(caller: Caller, sqlite_server: Any) -> None:
    """In prompt mode a credential waits in the database; encryption at rest covers it there."""
    # `caller` comes first, so it closes after the server stops: a call still
    # waiting, should an assertion fail, is answered by the stop.
    # A process of its own: the test reads the database's files while the server
    # holds them open, and closing a file drops every SQLite lock its process holds.
    server: Server = sqlite_server(
        {"storage": {"encryption_key": KEY_A}, **prompt_settings()}, kind=Server
    )
    entry, waiting = pending_store(server, caller)
    # Its long values: numbers, the issuer's key, the salt; not the wallet's own account.
    distinctive = {value for value in _leaves(seed_credential()) if len(value) >= 12}
    distinctive -= {ACCOUNT}
    assert len(distinctive) >= 5
    assert _found_in_files(server, distinctive) == []

    listed = server.cli_here("approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (shown,) = json.loads(listed.stdout)["pending"]
    assert shown["credential"] == seed_credential()
    with_key(server, None)
    keyless = server.cli_here("approvals", "list")
    assert keyless.returncode == 2
    assert keyless.stderr.strip().splitlines() == [
        "wallet-rpc: the database holds encrypted credentials: set [storage] encryption_key"
        " (or WALLET_RPC_ENCRYPTION_KEY)"
    ]
    with_key(server, KEY_A)

    approved = server.cli_here("approvals", "approve", str(entry["id"]))
    assert approved.returncode == 0, approved.stderr
    assert "error" not in answer(waiting)
    assert [stored["credential"] for stored in server.stored()] == [seed_credential()]


def test_a_wrong_or_missing_key_stops_start_up_with_one_line(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server(
        {"storage": {"encryption_key": KEY_A}, **WITHOUT_SIGNATURE_WORKERS}
    )
    server.call("mina_requestAccounts")
    store(server, unsigned_credential("keyed"))
    assert server.stop() == 0

    with_key(server, KEY_B)
    status, line = _serve_status(server)
    assert status == 2
    assert line == (
        "wallet-rpc: [storage] encryption_key is not the key this database is encrypted"
        " with (its key check value does not match)"
    )
    listed = server.cli_here("credentials", "list")
    assert listed.returncode == 2
    assert listed.stderr.count("\n") == 1

    with_key(server, None)
    status, line = _serve_status(server)
    assert status == 2
    assert "holds encrypted credentials: set [storage] encryption_key" in line
    # The key from the environment instead of the file.
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("WALLET_RPC_ENCRYPTION_KEY", KEY_A)
        listed = server.cli_here("credentials", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["credential"] == unsigned_credential("keyed")
    status, line = _serve_status(server, {"WALLET_RPC_ENCRYPTION_KEY": "too-short"})
    assert status == 2
    assert "too-short" not in line
    assert "storage.encryption_key" in line


def _rekey(
    server: Server, *arguments: str, new_key: str | None
) -> subprocess.CompletedProcess[str]:
    """`wallet-rpc rekey`, run in this process; the new key, if given, from the environment.

    A rekey process of its own is _kill_rekey_part_way's.
    """
    with pytest.MonkeyPatch.context() as environment:
        if new_key is None:
            environment.delenv(NEW_KEY_VARIABLE, raising=False)
        else:
            environment.setenv(NEW_KEY_VARIABLE, new_key)
        return server.cli_here("rekey", *arguments)


def _kill_rekey_part_way(server: Server, new_key: str) -> str:
    """Start a rekey in small batches and kill -9 it after its first committed batch."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wallet_rpc",
            "rekey",
            "--config",
            str(server.config_path),
            "--batch-size",
            "3",
        ],
        cwd=server.workdir,
        env={**child_environment(), NEW_KEY_VARIABLE: new_key},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    return first


def test_an_interrupted_rekey_loses_nothing_and_a_rerun_finishes(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server(
        {"storage": {"encryption_key": KEY_A}, **WITHOUT_SIGNATURE_WORKERS}
    )
    server.call("mina_requestAccounts")
    credentials = [unsigned_credential(f"rekey{n}") for n in range(150)]
    answers = store_many(server, credentials)
    assert all("result" in answer for answer in answers)
    assert server.stop() == 0

    first = _kill_rekey_part_way(server, KEY_B)
    assert first.startswith("re-encrypted ")
    # Part way: neither key alone serves the database.
    for key in (KEY_A, KEY_B):
        with_key(server, key)
        status, line = _serve_status(server)
        assert status == 2
        assert "part way through a rekey" in line

    with_key(server, KEY_A)
    finished = _rekey(server, new_key=KEY_B)
    assert finished.returncode == 0, finished.stderr
    assert "credentials now stored under the new key" in finished.stdout

    with_key(server, KEY_B)
    server.start()
    listed = server.stored()
    assert sorted(json.dumps(entry["credential"]) for entry in listed) == sorted(
        json.dumps(credential) for credential in credentials
    )
    # Dedup keys were re-derived under the new key: stores again are duplicates.
    again = [store(server, credential)["result"] for credential in credentials[:10]]
    assert again == [answer["result"] for answer in answers[:10]]
    assert len(server.stored()) == 150
    assert server.stop() == 0

    rerun = _rekey(server, new_key=KEY_B)
    assert rerun.returncode == 0
    assert "already stored under the new key" in rerun.stdout


def test_rekey_encrypts_a_clear_store_and_decrypts_it_back(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    server.call("mina_requestAccounts")
    credentials = [seed_credential(), unsigned_credential("clear")]
    answers = [store(server, credential)["result"] for credential in credentials]
    assert server.stop() == 0

    with_key(server, KEY_A)
    status, line = _serve_status(server)
    assert status == 2
    assert "stored in clear: run `wallet-rpc rekey`" in line
    with_key(server, None)
    wrong_usage = _rekey(server, new_key=None)
    assert wrong_usage.returncode == 2
    assert "--new-key-file" in wrong_usage.stderr
    key_file = server.workdir / "new.key"
    key_file.write_text(KEY_A + "\n", encoding="utf-8")
    encrypted = _rekey(server, "--new-key-file", str(key_file), new_key=None)
    assert encrypted.returncode == 0, encrypted.stderr

    with_key(server, KEY_A)
    server.start()
    assert [entry["credential"] for entry in server.stored()] == credentials
    assert [store(server, credential)["result"] for credential in credentials] == answers
    assert server.stop() == 0

    decrypted = _rekey(server, "--decrypt", new_key=None)
    assert decrypted.returncode == 0, decrypted.stderr
    with_key(server, None)
    server.start()
    listed = server.stored()
    assert [entry["credential"] for entry in listed] == credentials
    assert listed[1]["owner"] == OTHER_OWNER
    assert [store(server, credential)["result"] for credential in credentials] == answers
    assert len(server.stored()) == 2


def test_new_key_prints_a_usable_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = run_cli("new-key", cwd=tmp_path)
    assert made.returncode == 0
    key = made.stdout.strip()
    assert len(key) == 43
    # The default config: a database in the working directory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WALLET_RPC_ENCRYPTION_KEY", key)
    loaded = run_cli_here("migrate")
    assert loaded.returncode == 0, loaded.stderr
    assert (tmp_path / "wallet.db").is_file()
