"""Starting the real server on a real port, and talking HTTP to it."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallet_rpc import cli

REPO = Path(__file__).resolve().parent.parent
# A native credential signed by mina-attestations, the one bench/ stores too.
SEED_CREDENTIAL_PATH = REPO / "tests" / "data" / "seed_credential.json"
ALLOWED_ORIGIN = "http://localhost:5173"
# For a server that stores unsigned credentials only: no signature workers to
# start (and warm up) for checks it never makes.
WITHOUT_SIGNATURE_WORKERS: dict[str, dict[str, Any]] = {"verification": {"native": False}}
STARTUP_SECONDS = 30


def child_environment() -> dict[str, str]:
    """This environment less WALLET_RPC_* settings: a test's config file is the whole config."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WALLET_RPC_") or name.startswith("WALLET_RPC_TEST_")
    } | {"PYTHONUNBUFFERED": "1"}


def seed_credential() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SEED_CREDENTIAL_PATH.read_text(encoding="utf-8"))
    return loaded


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def toml_text(settings: Mapping[str, Mapping[str, Any]]) -> str:
    """TOML for our flat sections: JSON scalars and string lists are valid TOML values."""
    lines: list[str] = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def merge(base: dict[str, dict[str, Any]], extra: Mapping[str, Mapping[str, Any]]) -> None:
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)


@dataclass
class Server:
    """A `wallet-rpc serve` process of its own, on a free port, with its own config file."""

    workdir: Path
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def config_path(self) -> Path:
        return self.workdir / "wallet-rpc.toml"

    @property
    def database_url(self) -> str:
        return str(self.settings["database"]["url"])

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(toml_text(self.settings), encoding="utf-8")

    def start(self) -> Server:
        self.port = free_port(self.host)
        self.settings.setdefault("server", {}).update(host=self.host, port=self.port)
        self.write_config()
        with (self.workdir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "wallet_rpc", "serve", "--config", str(self.config_path)],
                cwd=self.workdir,
                env=child_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start-up:\n{self.log()}")
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{self.log()}")

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> int:
        """SIGTERM, as an orchestrator would; the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=30)
        self.process = None
        return status

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            reply = connection.getresponse()
            return Response(reply.status, dict(reply.getheaders()), reply.read())
        finally:
            connection.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(
        self,
        body: bytes | str | Any,
        *,
        origin: str | None = ALLOWED_ORIGIN,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if isinstance(body, str):
            raw = body.encode("utf-8")
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode("utf-8")
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if origin is not None:
            all_headers["Origin"] = origin
        return self.request("POST", "/", raw, all_headers)

    def call(
        self,
        method: str,
        params: Any = None,
        *,
        origin: str | None = ALLOWED_ORIGIN,
        request_id: Any = 1,
    ) -> dict[str, Any]:
        """One JSON-RPC call; the decoded answer object (result or error)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        response = self.post(message, origin=origin)
        assert response.status == 200, (response.status, response.body)
        assert response.headers["Content-Type"].startswith("application/json")
        answer: dict[str, Any] = response.json()
        return answer

    def cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*arguments, "--config", str(self.config_path), cwd=self.workdir)

    def cli_here(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """A CLI command on this server's config, run in this process (no interpreter to start).

        For what tests ask often (the stored credentials, the audit trail); `cli`
        runs the command as a person would, in a process of its own.
        """
        return run_cli_here(*arguments, "--config", str(self.config_path))

    def stored(self) -> list[dict[str, Any]]:
        """`wallet-rpc credentials list --json`, run in this process: tests ask often."""
        listed = self.cli_here("credentials", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        entries: list[dict[str, Any]] = json.loads(listed.stdout)
        return entries


def run_cli(
    *arguments: str,
    cwd: Path | None = None,
    environment: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m wallet_rpc ...`; `environment` adds variables (WALLET_RPC_* included)."""
    return subprocess.run(
        [sys.executable, "-m", "wallet_rpc", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**child_environment(), **(environment or {})},
        check=False,
    )


def run_cli_here(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`cli.main(arguments)` in this process, its output captured as `run_cli` captures a process's.

    It reads this process's environment and working directory (set them with
    monkeypatch); `run_cli` is for what is about the process itself.
    """
    printed, complained = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(complained):
            try:
                return cli.main(list(arguments))
            except SystemExit as exit_:  # argparse: --help, or a refused command line
                if exit_.code is None or isinstance(exit_.code, int):
                    return exit_.code or 0
                # sys.exit("message"): what the interpreter prints, and its status.
                print(exit_.code, file=sys.stderr)
                return 1

    # A thread of its own: the CLI runs an event loop, and the caller may be inside one.
    with ThreadPoolExecutor(1) as thread:
        status = thread.submit(run).result()
    return subprocess.CompletedProcess(
        list(arguments), status, printed.getvalue(), complained.getvalue()
    )


def error_code(answer: Mapping[str, Any]) -> int | None:
    error = answer.get("error")
    return None if error is None else int(error["code"])


def non_loopback_address() -> str | None:
    """An address of this machine on a real interface (not 127.0.0.0/8), if it has one."""
    try:
        listed = subprocess.run(
            ["hostname", "-I"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((address for address in listed if "." in address), None)
