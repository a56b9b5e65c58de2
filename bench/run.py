"""Store benchmark: wallet-rpc beside the hand-written floor, in one run, with wrk.

    .venv/bin/python bench/run.py [--duration 10] [--database-url URL] [--floor DIR]

The floor is a hand-written aiohttp + json + one INSERT and COMMIT per request
server, kept outside this repository: DIR holds its floor_server.py and the
wrk script store.lua that drives it (default: ../shared/bench beside the
repository). Starts the floor (echo and store modes) and wallet-rpc
(synchronous=FULL, group commit), drives each with wrk and prints req/s, p50
and p99 per scenario, with our figures as a ratio of the floor's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_FLOOR = REPO.parent / "shared" / "bench"
FLOOR_FILES = ("floor_server.py", "store.lua")
ORIGIN = "http://localhost:5173"
ISSUER_PRIVATE_KEY = 123456789
OWNER = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, body: bytes | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(arguments: list[str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        arguments, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield child
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextmanager
def floor(mode: str, workdir: Path, floor_dir: Path) -> Iterator[str]:
    port = free_port()
    script = floor_dir / "floor_server.py"
    with process(
        [sys.executable, str(script), mode, str(port), str(workdir / f"floor-{mode}.db")], workdir
    ):
        url = f"http://127.0.0.1:{port}/"
        probe = json.dumps(
            {"jsonrpc": "2.0", "id": 0, "method": "x", "params": {"credential": {"probe": 1}}}
        )
        wait_for(url, probe.encode())
        yield url


@contextmanager
def wallet_rpc(workdir: Path, database_url: str, *, native: bool) -> Iterator[str]:
    port = free_port()
    config = workdir / f"wallet-{port}.toml"
    config.write_text(
        f'[server]\nport = {port}\nmax_batch = 100\n[database]\nurl = "{database_url}"\n'
        f"[verification]\nnative = {'true' if native else 'false'}\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "wallet_rpc", "serve", "--config", str(config)]
    with process(command, workdir):
        url = f"http://127.0.0.1:{port}/"
        wait_for(url + "healthz")
        connect = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "mina_requestAccounts"}).encode()
        request = urllib.request.Request(
            url, data=connect, headers={"Content-Type": "application/json", "Origin": ORIGIN}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["result"] == [OWNER]
        yield url


def wrk(
    url: str, script: Path, connections: int, duration: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as combined:
        combined.write(script.read_text(encoding="utf-8"))
        combined.write("\n")
        combined.write((BENCH / "report.lua").read_text(encoding="utf-8"))
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                combined.name,
                url,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=True,
        )
    finally:
        os.unlink(combined.name)
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def signed_requests(path: Path, count: int) -> None:
    sys.path.insert(0, str(REPO))
    from wallet_rpc.mina.signing import sign_native_credential

    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            data = {"nationality": "KR", "name": "zvCICx", "serial": f"signed-{index}"}
            credential = sign_native_credential(ISSUER_PRIVATE_KEY, OWNER, data)
            call = {
                "jsonrpc": "2.0",
                "id": index,
                "method": "mina_storePrivateCredential",
                "params": {"credential": credential},
            }
            out.write(json.dumps(call, separators=(",", ":")) + "\n")


def row(
    name: str, ours: dict[str, Any], baseline: dict[str, Any] | None, baseline_name: str
) -> str:
    ratio = f"{ours['rps'] / baseline['rps']:.2f}x {baseline_name}" if baseline else ""
    errors = (
        ""
        if not (ours["errors"] or ours["non2xx"])
        else f"  errors={ours['errors']} non2xx={ours['non2xx']}"
    )
    figures = f"{ours['rps']:.0f} | {ours['p50_ms']:.2f} | {ours['p99_ms']:.2f}"
    return f"| {name} | {figures} | {ratio}{errors} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--database-url", help="wallet-rpc database (default: a fresh SQLite file)")
    parser.add_argument("--signed", type=int, default=3000, help="signed credentials to prepare")
    parser.add_argument(
        "--floor",
        metavar="DIR",
        type=Path,
        default=DEFAULT_FLOOR,
        help=f"directory holding {' and '.join(FLOOR_FILES)} (default: {DEFAULT_FLOOR})",
    )
    arguments = parser.parse_args()
    floor_dir: Path = arguments.floor
    missing = [name for name in FLOOR_FILES if not (floor_dir / name).is_file()]
    lacking = []
    if shutil.which("wrk") is None:
        lacking.append("wrk is not installed (Debian package wrk)")
    if missing:
        lacking.append(
            f"the floor server is not part of this repository and {floor_dir} lacks"
            f" {', '.join(missing)}: name the directory that holds {' and '.join(FLOOR_FILES)}"
            " with --floor DIR"
        )
    if lacking:
        sys.exit("\n".join(f"bench/run.py: {reason}" for reason in lacking))
    duration = arguments.duration
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        database_url = arguments.database_url or f"sqlite+aiosqlite:///{workdir / 'wallet.db'}"
        signed_path = workdir / "signed.jsonl"
        signed_requests(signed_path, arguments.signed)
        store_lua, unsigned_lua = floor_dir / "store.lua", BENCH / "store_unsigned.lua"
        rows = []
        with floor("echo", workdir, floor_dir) as echo_url:
            echo = wrk(echo_url, store_lua, 32, duration)
        with floor("store", workdir, floor_dir) as floor_url:
            floor_1 = wrk(floor_url, store_lua, 1, duration)
            floor_32 = wrk(floor_url, store_lua, 32, duration)
        rows.append(row("floor echo, 32 connections (ceiling)", echo, None, ""))
        rows.append(row("floor store, 1 connection", floor_1, None, ""))
        rows.append(row("floor store, 32 connections", floor_32, None, ""))
        with wallet_rpc(workdir, database_url, native=False) as url:
            # Each scenario its own serials: a credential stored again is a
            # duplicate, answered from the stored entry, not a new store.
            def fresh(**extra: str) -> dict[str, str]:
                return {"RUN_ID": f"r{time.time_ns()}", **extra}

            ours_1 = wrk(url, unsigned_lua, 1, duration, fresh())
            ours_32 = wrk(url, unsigned_lua, 32, duration, fresh())
            batch_1 = wrk(url, unsigned_lua, 1, duration, fresh(BATCH="10"))
            accounts = wrk(url, BENCH / "accounts.lua", 32, duration)
        rows.append(row("store, 1 connection", ours_1, floor_1, "floor store"))
        rows.append(row("store, 32 connections", ours_32, floor_32, "floor store"))
        rows.append(row("store, 32 connections, vs ceiling", ours_32, echo, "floor echo"))
        rows.append(row("batch of 10 stores, 1 connection", batch_1, floor_1, "floor store"))
        rows.append(row("mina_accounts, 32 connections", accounts, echo, "floor echo"))
        with wallet_rpc(workdir, database_url, native=True) as url:
            signed_32 = wrk(
                url, BENCH / "store_signed.lua", 32, duration, {"CREDENTIALS": str(signed_path)}
            )
        rows.append(
            row("store signed, verification on, 32 connections", signed_32, floor_32, "floor store")
        )
    database_label = (
        "SQLite (WAL, synchronous=FULL)"
        if arguments.database_url is None
        else arguments.database_url.split(":")[0]
    )
    print(
        f"wallet-rpc store benchmark, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {duration}s per scenario, "
        f"database {database_label}"
    )
    print()
    print("| scenario | req/s | p50 ms | p99 ms | ratio |")
    print("| --- | ---: | ---: | ---: | --- |")
    for line in rows:
        print(line)
    batch_cost = ours_1["rps"] / batch_1["rps"]
    print()
    print(f"a batch of 10 stores costs {batch_cost:.2f}x one store (1 connection, req/s ratio)")
    print(
        f"p99 at 32 connections: ours {ours_32['p99_ms']:.2f} ms,"
        f" floor store {floor_32['p99_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
