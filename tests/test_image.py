"""The container image, without Docker: its own steps, performed in a directory standing for /.

The Dockerfile is read, not copied: each ENV, WORKDIR, COPY and RUN is carried
out in order, with the image's absolute paths placed under a temporary root,
and the server is started with the image's CMD and environment. An
instruction this test does not know fails it, so the two cannot drift apart.
Account creation (useradd) is the one step mirrored rather than run: the test
creates the user's home but adds no user to this machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import REPO, free_port
from wallet_rpc.config import resolve_config

DOCKERFILE = REPO / "Dockerfile"
CONSTRAINTS = REPO / "constraints.txt"
# The directories the image puts things in; each is placed under the test's root.
CONTAINER_PATHS = ("/opt/wallet-rpc", "/data")
# Docker sends SIGKILL this long after SIGTERM (docker stop's default).
DOCKER_GRACE_SECONDS = 10
STARTUP_SECONDS = 60
# This machine's own settings (index, certificates, proxy) reach pip as they would a builder's.
HOST_ONLY_VARIABLES = ("PATH", "HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")

_PATH_CHARS = r"[\w.+-]"
_ABSOLUTE_PATH = re.compile(rf"(?<![^\s=:\"'/])/[A-Za-z]{_PATH_CHARS}*(?:/{_PATH_CHARS}+)*")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    parsed = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        parsed.append(Instruction(keyword.upper(), arguments.strip()))
    return parsed


@dataclass
class Image:
    """What the Dockerfile built, placed under `root`."""

    root: Path
    env: dict[str, str]
    workdir: Path
    user: str = "root"
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    exposed: list[int] = field(default_factory=list)
    base: str = ""
    accounts: list[str] = field(default_factory=list)

    def inside(self, text: str) -> str:
        """A container path (or text holding some) as it lies under the root."""
        unmapped = [
            path
            for path in _ABSOLUTE_PATH.findall(text)
            if not any(path == known or path.startswith(known + "/") for known in CONTAINER_PATHS)
        ]
        assert not unmapped, f"the image uses paths this test does not place: {unmapped}"
        for known in CONTAINER_PATHS:
            text = re.sub(
                rf"(?<![^\s=:\"'/]){re.escape(known)}(?=$|[/\s:\"'])",
                str(self.root) + known,
                text,
            )
        return text

    def expand(self, value: str) -> str:
        return _VARIABLE.sub(lambda match: self.env.get(match[1] or match[2], ""), value)

    def run(self, command: str) -> None:
        for step in (part.strip() for part in command.split("&&")):
            if step.startswith("useradd "):
                self.mirror_useradd(step)
                continue
            result = subprocess.run(
                ["/bin/sh", "-c", self.inside(step)],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, (step, result.stdout[-3000:], result.stderr[-3000:])

    def mirror_useradd(self, step: str) -> None:
        words = shlex.split(step)
        home = words[words.index("--home-dir") + 1]
        if "--create-home" in words:
            Path(self.inside(home)).mkdir(parents=True, exist_ok=True)
        self.accounts.append(words[words.index("--uid") + 1])
        self.accounts.append(words[-1])


def dockerignore_patterns() -> list[str]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            patterns.append(line.strip().rsplit("/", 1)[-1])
    return patterns


def build(root: Path) -> Image:
    """Perform the Dockerfile's steps with `root` standing for the image's /."""
    # The base image: a Python 3 on PATH as `python`, as python:*-slim has it.
    base_bin = root / "usr" / "local" / "bin"
    base_bin.mkdir(parents=True)
    interpreter = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    for name in ("python", "python3"):
        (base_bin / name).symlink_to(interpreter)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in HOST_ONLY_VARIABLES and not name.startswith("WALLET_RPC_")
    }
    env |= {"PATH": f"{base_bin}:/usr/bin:/bin", "HOME": str(root / "root"), "LANG": "C.UTF-8"}
    (root / "root").mkdir()
    image = Image(root=root, env=env, workdir=root)
    ignore = shutil.ignore_patterns(*dockerignore_patterns())

    for instruction in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "FROM":
            image.base = arguments
        elif keyword == "ENV":
            for assignment in shlex.split(arguments):
                name, equals, value = assignment.partition("=")
                assert equals, f"ENV {assignment}: use NAME=value"
                image.env[name] = image.expand(image.inside(value))
        elif keyword == "WORKDIR":
            image.workdir = Path(image.inside(arguments))
            image.workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, destination = shlex.split(arguments)
            assert not any(source.startswith("--") for source in sources), sources
            target = Path(image.inside(destination))
            target = target if target.is_absolute() else image.workdir / target
            for source in sources:
                origin = REPO / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif keyword == "RUN":
            assert not arguments.startswith("["), "RUN in shell form only"
            image.run(arguments)
        elif keyword == "USER":
            image.user = arguments
        elif keyword == "CMD":
            image.cmd = json.loads(arguments)
        elif keyword == "HEALTHCHECK":
            _, _, command = arguments.partition("CMD ")
            image.healthcheck = json.loads(command)
        elif keyword == "EXPOSE":
            image.exposed = [int(port.split("/")[0]) for port in arguments.split()]
        elif keyword in ("VOLUME", "STOPSIGNAL", "LABEL"):
            pass
        else:
            raise AssertionError(f"instruction this test does not know: {keyword}")
    return image


def call(port: int, method: str, params: Any = None) -> dict[str, Any]:
    """A JSON-RPC call as a backend service sends it: no Origin header."""
    import http.client

    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        message["params"] = params
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/", json.dumps(message), {"Content-Type": "application/json"})
        reply = connection.getresponse()
        assert reply.status == 200
        answer: dict[str, Any] = json.loads(reply.read())
        return answer
    finally:
        connection.close()


def healthcheck(image: Image, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        image.healthcheck, cwd=image.workdir, env=env, capture_output=True, text=True, timeout=30
    )


def stop_as_docker_does(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM; SIGKILL if still running after the grace period (exit status 137 then)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=DOCKER_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return 128 + signal.SIGKILL


def pinned_versions() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def test_image_steps_install_and_its_cmd_serves_and_stops_cleanly(tmp_path: Path) -> None:
    image = build(tmp_path / "image")

    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", image.base), image.base
    assert image.user.split(":")[0] in image.accounts
    assert image.user.split(":")[0] not in ("root", "0")
    assert image.cmd[0] == "wallet-rpc"
    assert image.env["WALLET_RPC_SERVER_HOST"] == "0.0.0.0"
    assert [int(image.env["WALLET_RPC_SERVER_PORT"])] == image.exposed

    freeze = subprocess.run(
        ["pip", "freeze"], env=image.env, capture_output=True, text=True, check=True
    )
    pins = pinned_versions()
    for line in freeze.stdout.splitlines():
        name, _, version = line.partition("==")
        if name.startswith("wallet-rpc") or name.startswith("wallet_rpc"):
            continue
        assert pins.get(re.sub(r"[-_.]+", "-", name).lower()) == version, (
            f"{line} is installed but not pinned in constraints.txt"
        )

    # As `docker run -e WALLET_RPC_SERVER_PORT=...`: a free port, since this machine is shared.
    port = free_port()
    env = image.env | {"WALLET_RPC_SERVER_PORT": str(port)}
    executable = shutil.which(image.cmd[0], path=env["PATH"])
    assert executable is not None
    assert executable.startswith(str(image.root)), executable
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [executable, *image.cmd[1:]], cwd=image.workdir, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while healthcheck(image, env).returncode != 0:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)

        assert call(port, "mina_requestAccounts")["result"]
        credential = {
            "version": "v0",
            "witness": {"type": "unsigned"},
            "credential": {
                "owner": {"_type": "PublicKey", "value": call(port, "mina_accounts")["result"][0]},
                "data": {"name": "in the image"},
            },
        }
        stored = call(port, "mina_storePrivateCredential", {"credential": credential})
        assert "result" in stored, stored
        assert (image.root / "data" / "wallet.db").is_file()
    finally:
        status = stop_as_docker_does(server)
    log = log_path.read_text()
    assert status == 0, log
    assert "Traceback" not in log
    stopped = healthcheck(image, env)
    assert stopped.returncode == 1
    assert "no answer" in stopped.stderr


def test_compose_example_sets_only_valid_settings() -> None:
    text = (REPO / "docker-compose.example.yml").read_text(encoding="utf-8")
    settings = dict(re.findall(r"^\s+(WALLET_RPC_[A-Z_]+): (.+)$", text, flags=re.MULTILINE))
    assert "WALLET_RPC_DATABASE_URL" in settings
    environ = {name: value.strip().strip("'\"") for name, value in settings.items()}
    resolved = resolve_config(None, environ)
    assert resolved.database.url.startswith("postgresql+asyncpg://")
    assert resolved.security.default_origin in resolved.security.allowed_origins
