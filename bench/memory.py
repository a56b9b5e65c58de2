"""Memory as the store grows: server RSS after 100k and after 1M stored credentials.

    .venv/bin/python bench/memory.py [--first 100000] [--last 1000000]

Starts wallet-rpc on a fresh SQLite file (signature checks off: the store
path is what grows), fills it with distinct unsigned credentials through
HTTP with wrk (bench/store_unsigned.lua, 32 connections), and prints the
server's resident set size at each mark and the growth between them.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BENCH, wallet_rpc


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def stored(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM credentials").fetchone()[0])


def fill_until(url: str, database: Path, target: int, script: Path) -> None:
    while (count := stored(database)) < target:
        seconds = max(2, min(30, (target - count) // 2500))
        subprocess.run(
            ["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), url],
            env={**os.environ, "RUN_ID": f"m{time.time_ns()}"},
            capture_output=True,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--first", type=int, default=100_000)
    parser.add_argument("--last", type=int, default=1_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        database = workdir / "wallet.db"
        script = workdir / "store.lua"
        script.write_text(
            (BENCH / "store_unsigned.lua").read_text() + (BENCH / "report.lua").read_text()
        )
        with wallet_rpc(workdir, f"sqlite+aiosqlite:///{database}", native=False) as url:
            [pid] = [
                int(line.split()[0])
                for line in subprocess.run(
                    ["pgrep", "-af", "wallet_rpc serve"], capture_output=True, text=True
                ).stdout.splitlines()
                if str(workdir) in line
            ]
            marks = []
            for target in (arguments.first, arguments.last):
                started = time.monotonic()
                fill_until(url, database, target, script)
                marks.append((stored(database), resident_kib(pid), time.monotonic() - started))
    for count, rss, seconds in marks:
        print(f"{count:>9} credentials stored: RSS {rss / 1024:.1f} MiB ({seconds:.0f} s to fill)")
    (first_count, first_rss, _), (last_count, last_rss, _) = marks
    growth = (last_rss - first_rss) / first_rss * 100
    print(f"RSS grew {growth:.1f}% from {first_count} to {last_count} credentials")


if __name__ == "__main__":
    main()
