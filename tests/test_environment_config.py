"""WALLET_RPC_<SECTION>_<KEY> variables over the config file, as a container is configured."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import child_environment, free_port, run_cli
from wallet_rpc.config import ConfigError, builtin_defaults, load_config, resolve_config

ORIGINS = '["https://app.example", "https://*.example.org"]'


def test_no_file_and_no_variables_is_the_builtin_defaults() -> None:
    assert resolve_config(None, {}) == builtin_defaults()


def test_variables_override_the_file_key_by_key(tmp_path: Path) -> None:
    config = tmp_path / "wallet-rpc.toml"
    config.write_text(
        '[server]\nport = 9000\nmax_batch = 7\n[approval]\nmode = "reject"\n', encoding="utf-8"
    )
    resolved = resolve_config(
        config,
        {
            "WALLET_RPC_SERVER_HOST": "0.0.0.0",
            "WALLET_RPC_SERVER_PORT": "9100",
            "WALLET_RPC_DATABASE_URL": "postgresql+asyncpg://wallet:pw@db:5432/wallet",
            "WALLET_RPC_SECURITY_ALLOWED_ORIGINS": ORIGINS,
            "WALLET_RPC_SECURITY_DEFAULT_ORIGIN": "https://app.example",
            "WALLET_RPC_SECURITY_REQUIRE_OWNER_ACCOUNT": "true",
            "WALLET_RPC_APPROVAL_TIMEOUT_SECONDS": "5",
            "WALLET_RPC_VERIFICATION_IMPORTED": "reject",
            "UNRELATED": "1",
        },
    )
    assert resolved.server.host == "0.0.0.0"
    assert resolved.server.port == 9100
    assert resolved.server.max_batch == 7  # from the file, not overridden
    assert resolved.approval.mode == "reject"
    assert resolved.approval.timeout_seconds == 5.0
    assert resolved.database.url == "postgresql+asyncpg://wallet:pw@db:5432/wallet"
    assert resolved.security.allowed_origins == ("https://app.example", "https://*.example.org")
    assert resolved.security.default_origin == "https://app.example"
    assert resolved.security.require_owner_account is True
    assert resolved.verification.imported == "reject"
    # Without variables the file alone decides.
    assert resolve_config(config, {}) == load_config(config)


def test_config_variable_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "mounted.toml"
    config.write_text("[server]\nport = 9200\n", encoding="utf-8")
    environ = {"WALLET_RPC_CONFIG": str(config)}
    assert resolve_config(None, environ).server.port == 9200
    # A file named on the command line comes first.
    other = tmp_path / "other.toml"
    other.write_text("[server]\nport = 9300\n", encoding="utf-8")
    assert resolve_config(other, environ).server.port == 9300


def test_names_outside_the_sections_are_not_settings() -> None:
    resolved = resolve_config(
        None,
        {"WALLET_RPC_TEST_POSTGRES_URL": "postgresql://x", "WALLET_RPC_": "", "WALLET_RPC": ""},
    )
    assert resolved == builtin_defaults()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        (
            {"WALLET_RPC_SERVER_PROT": "1"},
            "unknown key 'server.prot' (from WALLET_RPC_SERVER_PROT)",
        ),
        ({"WALLET_RPC_SERVER_PORT": "eighty"}, "'server.port' (from WALLET_RPC_SERVER_PORT)"),
        ({"WALLET_RPC_SERVER_PORT": "70000"}, "'server.port' (from WALLET_RPC_SERVER_PORT)"),
        ({"WALLET_RPC_SERVER_PORT": '"80"'}, "'server.port' (from WALLET_RPC_SERVER_PORT)"),
        ({"WALLET_RPC_APPROVAL_MODE": "sometimes"}, "'approval.mode' (from WALLET_RPC_APPR"),
        ({"WALLET_RPC_DATABASE_URL": "mysql://x"}, "'database.url' (from WALLET_RPC_DATABASE_URL)"),
        (
            {"WALLET_RPC_SECURITY_ALLOWED_ORIGINS": "https://app.example"},
            "'security.allowed_origins' (from WALLET_RPC_SECURITY_ALLOWED_ORIGINS)",
        ),
        (
            {"WALLET_RPC_SECURITY_ALLOWED_ORIGINS": '["localhost/path"]'},
            "'security.allowed_origins' (from WALLET_RPC_SECURITY_ALLOWED_ORIGINS)",
        ),
        ({"WALLET_RPC_WALLET_ACCOUNTS": "[]"}, "'wallet.accounts' (from WALLET_RPC_WALLET_ACC"),
        (
            {"WALLET_RPC_SECURITY_REQUIRE_OWNER_ACCOUNT": "yes"},
            "'security.require_owner_account' (from WALLET_RPC_SECURITY_REQUIRE_OWNER_ACCOUNT)",
        ),
    ],
)
def test_bad_variables_are_named_in_one_line(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_config(None, environ)
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["credentials", "list"]])
def test_a_bad_variable_stops_every_command_with_status_2(
    tmp_path: Path, command: list[str]
) -> None:
    result = run_cli(*command, environment={"WALLET_RPC_SERVER_PORT": "eighty"}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "WALLET_RPC_SERVER_PORT" in line
    assert "Traceback" not in result.stderr


def test_server_configured_by_variables_alone(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "from-env.db"
    environ = {
        "WALLET_RPC_SERVER_PORT": str(port),
        "WALLET_RPC_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "WALLET_RPC_SECURITY_DEFAULT_ORIGIN": "https://app.example",
        "WALLET_RPC_SECURITY_ALLOWED_ORIGINS": ORIGINS,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "wallet_rpc", "serve"],
        cwd=tmp_path,
        env=child_environment() | environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        answer = None
        deadline = time.monotonic() + 30
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "mina_requestAccounts"})
                connection.request("POST", "/", body, {"Content-Type": "application/json"})
                answer = json.loads(connection.getresponse().read())
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        # No Origin header: the default origin from the environment, allowed by it too.
        assert answer is not None
        assert answer["result"] == list(builtin_defaults().wallet.accounts[:1])
        assert database.is_file()
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    listed = run_cli("credentials", "list", "--json", environment=environ, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
