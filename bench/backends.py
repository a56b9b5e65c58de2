"""CPU per request on each database backend: SQLite and PostgreSQL side by side, in one run.

    .venv/bin/python bench/backends.py --postgres-url postgresql+asyncpg://USER:PW@HOST/DB \\
        [--duration 8] [--connections 32]

For each backend, starts wallet-rpc (verification off, as bench/run.py's
unsigned scenario), drives it with wrk (every store a new credential; then
mina_accounts) and reports req/s and the CPU time per request of the server
process and, on PostgreSQL, of the database server's processes. CPU per
request holds still when other work shares the machine; req/s does not. The
PostgreSQL database named must be empty or wallet-rpc's own: the run stores
credentials in it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from run import BENCH, ORIGIN, free_port, wait_for, wrk

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL server process (backends, WAL writer, checkpointer)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
            if command.startswith(b"postgres") or command.endswith(b"/bin/postgres"):
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


@contextmanager
def wallet_rpc(workdir: Path, database_url: str) -> Iterator[tuple[str, int]]:
    """A connected wallet-rpc on database_url: its URL and process id."""
    port = free_port()
    config = workdir / f"wallet-{port}.toml"
    config.write_text(
        f'[server]\nport = {port}\n[database]\nurl = "{database_url}"\n'
        "[verification]\nnative = false\n",
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "wallet_rpc", "serve", "--config", str(config)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url + "healthz")
        connect = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "mina_requestAccounts"})
        request = urllib.request.Request(
            url,
            data=connect.encode(),
            headers={"Content-Type": "application/json", "Origin": ORIGIN},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert "result" in json.loads(reply.read())
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(
    url: str, script: Path, connections: int, duration: int, pid: int, env: dict[str, str]
) -> str:
    server_before, database_before = cpu_seconds(pid), postgres_cpu_seconds()
    figures = wrk(url, script, connections, duration, env)
    server = cpu_seconds(pid) - server_before
    database = postgres_cpu_seconds() - database_before
    requests = figures["requests"]
    return (
        f"{figures['rps']:.0f} | {figures['p50_ms']:.2f} | {figures['p99_ms']:.2f}"
        f" | {server / requests * 1e6:.0f} | {database / requests * 1e6:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        backends = [
            ("SQLite", f"sqlite+aiosqlite:///{workdir / 'wallet.db'}"),
            ("PostgreSQL", arguments.postgres_url),
        ]
        for label, database_url in backends:
            with wallet_rpc(workdir, database_url) as (url, pid):
                env = {"RUN_ID": f"{label}{time.time_ns()}"}
                for scenario, script in (
                    ("store", BENCH / "store_unsigned.lua"),
                    ("mina_accounts", BENCH / "accounts.lua"),
                ):
                    figures = measure(
                        url, script, arguments.connections, arguments.duration, pid, env
                    )
                    rows.append(f"| {label} | {scenario} | {figures} |")
    print(
        f"wallet-rpc per backend, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()},"
        f" {arguments.duration}s per scenario"
    )
    print()
    print(
        f"| database | scenario ({arguments.connections} connections) | req/s | p50 ms | p99 ms"
        " | server CPU us/request | PostgreSQL CPU us/request |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
