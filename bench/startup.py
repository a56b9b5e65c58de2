"""Start-up benchmark: wallet-rpc beside the floor server and a bare interpreter, in one run.

    .venv/bin/python bench/startup.py [--runs 7] [--quiet-seconds 1.0] [--floor DIR]

Prints, as medians of --runs runs each:
- `wallet-rpc --version` and `wallet-rpc --help` against `python -c pass`;
- `wallet-rpc serve` on a new SQLite file (as a CI job starts it), then
  again on that file (a restart, as a sidecar's), to its first 200 of
  /healthz, against the floor server (`floor_server.py store PORT DB`, new
  file; it is kept outside this repository, in DIR, default ../shared/bench)
  to its first answer;
- the idle server's RSS (after one signed store and --quiet-seconds of quiet)
  against the floor's (after one store and as much quiet);
- the RSS of a signature-check worker against the floor's;
- the time of the first signed store (the Auro docs' example native
  credential, tests/data/seed_credential.json) sent right after
  /healthz first answers 200 and the origin connects.
Every process is started the way a user starts it: the `wallet-rpc` console
script of the interpreter running this file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_FLOOR = REPO.parent / "shared" / "bench"
SEED_CREDENTIAL = REPO / "tests" / "data" / "seed_credential.json"
ORIGIN = "http://localhost"
POLL_SECONDS = 0.005
START_TIMEOUT_SECONDS = 60.0
MIB = 1024 * 1024
# SPEC section 6.
TARGETS = {
    "version": 8.0,
    "serve": 1.5,
    "rss": 1.5,
    "worker": 1.0,
    "first_store_ms": 50.0,
}


def missing_prerequisites(floor_dir: Path) -> list[str]:
    missing = []
    if not (floor_dir / "floor_server.py").is_file():
        missing.append(
            f"the floor server is not part of this repository and {floor_dir} lacks"
            " floor_server.py: name the directory that holds it with --floor DIR"
        )
    if not SEED_CREDENTIAL.is_file():
        missing.append(f"{SEED_CREDENTIAL} is absent")
    if not wallet_rpc_script().exists():
        missing.append(f"{wallet_rpc_script()} is absent: install the project (pip install -e .)")
    return missing


def wallet_rpc_script() -> Path:
    return Path(sys.executable).parent / "wallet-rpc"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def unique_bytes(pid: int) -> int:
    """Private (not shared with any other process) resident memory."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * 1024
    return total


def descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of every process under pid."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        for child in children.get(parent, []):
            found.append((child, parent))
            queue.append(child)
    return found


def is_helper(command: str, parent: int, server: int) -> bool:
    """multiprocessing's own processes: the resource tracker, and the fork server
    (a child of the server; the workers it forks carry the same command line)."""
    return "resource_tracker" in command or ("forkserver" in command and parent == server)


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def answer(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Origin": ORIGIN}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for_answer(
    child: subprocess.Popen[bytes], ready: Callable[[], bool], started: float
) -> float:
    """Seconds from `started` until `ready()` first holds."""
    while time.monotonic() - started < START_TIMEOUT_SECONDS:
        try:
            if ready():
                return time.monotonic() - started
        except OSError:
            pass
        if child.poll() is not None:
            raise RuntimeError(f"{child.args!r} exited with {child.returncode}")
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{child.args!r} did not answer")


@contextmanager
def started(arguments: list[str], cwd: Path) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    moment = time.monotonic()
    child = subprocess.Popen(
        arguments, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield child, moment
    finally:
        child.terminate()
        child.wait(timeout=30)


def rpc(method: str, params: object = None, call_id: int = 1) -> bytes:
    call: dict[str, Any] = {"jsonrpc": "2.0", "id": call_id, "method": method}
    if params is not None:
        call["params"] = params
    return json.dumps(call).encode()


def time_command(arguments: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floor_run(workdir: Path, floor_dir: Path, index: int, quiet: float) -> dict[str, float]:
    port = free_port()
    database = workdir / f"floor-{index}.db"
    store = rpc("mina_storePrivateCredential", {"credential": {"probe": index}})
    script = floor_dir / "floor_server.py"
    command = [sys.executable, str(script), "store", str(port), str(database)]
    with started(command, workdir) as (child, moment):
        seconds = wait_for_answer(child, lambda: answer(port, "POST", "/", store)[0] == 200, moment)
        time.sleep(quiet)
        return {"start": seconds, "rss": resident_bytes(child.pid)}


def wallet_config(workdir: Path, index: int, port: int) -> Path:
    config = workdir / f"wallet-{index}.toml"
    config.write_text(
        f'[server]\nport = {port}\n[database]\nurl = "sqlite+aiosqlite:///'
        f'{workdir / f"wallet-{index}.db"}"\n'
        f'[security]\nallowed_origins = ["{ORIGIN}"]\n',
        encoding="utf-8",
    )
    return config


def serve_once(
    command: list[str], workdir: Path, port: int, quiet: float, credential: bytes
) -> dict[str, float]:
    """Start, time the first 200 of /healthz and the first signed store, read memory, stop."""
    figures: dict[str, float] = {}

    def healthy() -> bool:
        return answer(port, "GET", "/healthz")[0] == 200

    with started(command, workdir) as (child, moment):
        figures["start"] = wait_for_answer(child, healthy, moment)
        connect_start = time.perf_counter()
        status, body = answer(port, "POST", "/", rpc("mina_requestAccounts"))
        if status != 200 or "result" not in json.loads(body):
            raise RuntimeError(f"mina_requestAccounts answered {status} {body!r}")
        store_start = time.perf_counter()
        status, body = answer(port, "POST", "/", credential)
        store_end = time.perf_counter()
        if status != 200 or "result" not in json.loads(body):
            raise RuntimeError(f"the signed store answered {status} {body!r}")
        figures["first_store"] = store_end - store_start
        figures["first_store_from_healthy"] = store_end - connect_start
        time.sleep(quiet)
        figures["rss"] = resident_bytes(child.pid)
        workers: list[tuple[int, int]] = []
        helpers: list[tuple[int, int]] = []
        for pid, parent in descendants(child.pid):
            try:
                line = command_line(pid)
                sizes = (resident_bytes(pid), unique_bytes(pid))
            except OSError:
                continue
            (helpers if is_helper(line, parent, child.pid) else workers).append(sizes)
        figures["workers"] = len(workers)
        if workers:
            figures["worker_rss"] = statistics.median(size for size, _ in workers)
            figures["worker_unique"] = statistics.median(unique for _, unique in workers)
        figures["helpers_rss"] = sum(size for size, _ in helpers)
        figures["tree_unique"] = unique_bytes(child.pid) + sum(
            unique for _, unique in workers + helpers
        )
    return figures


def wallet_run(
    workdir: Path, index: int, quiet: float, credential: bytes
) -> tuple[dict[str, float], dict[str, float]]:
    """A start on a new database (a CI job's), then a restart on it (a sidecar's)."""
    port = free_port()
    config = wallet_config(workdir, index, port)
    command = [str(wallet_rpc_script()), "serve", "--config", str(config)]
    fresh = serve_once(command, workdir, port, quiet, credential)
    current = serve_once(command, workdir, port, quiet, credential)
    return fresh, current


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs if key in run)


def ratio_row(name: str, ours: str, reference: str, ratio: float, target: float) -> str:
    met = "met" if ratio <= target else "NOT met"
    return f"| {name} | {ours} | {reference} | {ratio:.2f}x | <= {target:g}x | {met} |"


def report_rows(
    label: str,
    runs: list[dict[str, float]],
    floor_start: float,
    floor_rss: float,
) -> list[str]:
    start = median_of(runs, "start")
    rss = median_of(runs, "rss")
    rows = [
        ratio_row(
            f"`serve` to the first 200 of `/healthz`, {label}",
            f"{start:.3f} s",
            f"floor to its first answer {floor_start:.3f} s",
            start / floor_start,
            TARGETS["serve"],
        ),
        ratio_row(
            f"RSS of the idle server, {label}",
            f"{rss / MIB:.1f} MiB",
            f"floor {floor_rss / MIB:.1f} MiB",
            rss / floor_rss,
            TARGETS["rss"],
        ),
    ]
    if any("worker_rss" in run for run in runs):
        worker = median_of(runs, "worker_rss")
        rows.append(
            ratio_row(
                f"RSS of a signature-check worker, {label}",
                f"{worker / MIB:.1f} MiB",
                f"floor {floor_rss / MIB:.1f} MiB",
                worker / floor_rss,
                TARGETS["worker"],
            )
        )
    else:
        rows.append(
            f"| RSS of a signature-check worker, {label} | no worker process | | | <= 1x | |"
        )
    first_ms = median_of(runs, "first_store") * 1000
    met = "met" if first_ms <= TARGETS["first_store_ms"] else "NOT met"
    rows.append(
        f"| first signed store after `/healthz` answers 200, {label} | {first_ms:.1f} ms | | |"
        f" <= {TARGETS['first_store_ms']:g} ms | {met} |"
    )
    return rows


def notes(label: str, runs: list[dict[str, float]]) -> list[str]:
    lines = [
        f"- {label}: first signed store counted from the first 200 of /healthz, the origin's"
        f" connection included: {median_of(runs, 'first_store_from_healthy') * 1000:.1f} ms"
    ]
    if any("worker_rss" in run for run in runs):
        lines.append(
            f"- {label}: {median_of(runs, 'workers'):.0f} worker processes, each"
            f" {median_of(runs, 'worker_unique') / MIB:.1f} MiB not shared with another"
            f" process; multiprocessing's helper processes (fork server, resource tracker):"
            f" {median_of(runs, 'helpers_rss') / MIB:.1f} MiB RSS in all"
        )
    lines.append(
        f"- {label}: memory of the whole process tree not shared between its processes:"
        f" {median_of(runs, 'tree_unique') / MIB:.1f} MiB"
    )
    return lines


def spread(name: str, runs: list[dict[str, float]], key: str, scale: float, unit: str) -> str:
    values = [run[key] * scale for run in runs]
    return f"{name} {min(values):.3g}-{max(values):.3g}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument(
        "--quiet-seconds", type=float, default=1.0, help="idle time before reading RSS"
    )
    parser.add_argument(
        "--floor",
        metavar="DIR",
        type=Path,
        default=DEFAULT_FLOOR,
        help=f"directory holding floor_server.py (default: {DEFAULT_FLOOR})",
    )
    arguments = parser.parse_args()
    floor_dir: Path = arguments.floor
    missing = missing_prerequisites(floor_dir)
    if missing:
        sys.exit("\n".join(f"bench/startup.py: {reason}" for reason in missing))
    document = json.loads(SEED_CREDENTIAL.read_text(encoding="utf-8"))
    from wallet_rpc.mina.signature import verify_native_credential

    if document["witness"]["type"] != "native" or not verify_native_credential(document):
        sys.exit(f"bench/startup.py: {SEED_CREDENTIAL} is not a signed native credential")
    credential = rpc("mina_storePrivateCredential", {"credential": document}, 2)
    runs = arguments.runs
    script = str(wallet_rpc_script())
    bare = time_command([sys.executable, "-c", "pass"], runs)
    version = time_command([script, "--version"], runs)
    help_time = time_command([script, "--help"], runs)
    floors: list[dict[str, float]] = []
    fresh: list[dict[str, float]] = []
    current: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        # Interleaved, so that whatever else the machine does weighs on both alike.
        for index in range(runs):
            floors.append(floor_run(workdir, floor_dir, index, arguments.quiet_seconds))
            new, again = wallet_run(workdir, index, arguments.quiet_seconds, credential)
            fresh.append(new)
            current.append(again)
    floor_start = median_of(floors, "start")
    floor_rss = median_of(floors, "rss")
    load = os.getloadavg()
    print(
        f"wallet-rpc start-up benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC,"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" medians of {runs} runs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print()
    print("| figure | wallet-rpc | reference | ratio | SPEC 6 target | |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    bare_text = f"`python -c pass` {bare:.3f} s"
    print(
        ratio_row(
            "`wallet-rpc --version`",
            f"{version:.3f} s",
            bare_text,
            version / bare,
            TARGETS["version"],
        )
    )
    print(
        ratio_row(
            "`wallet-rpc --help`",
            f"{help_time:.3f} s",
            bare_text,
            help_time / bare,
            TARGETS["version"],
        )
    )
    for label, wallet_runs in (("new database", fresh), ("restart", current)):
        for row in report_rows(label, wallet_runs, floor_start, floor_rss):
            print(row)
    print()
    for label, wallet_runs in (("new database", fresh), ("restart", current)):
        for line in notes(label, wallet_runs):
            print(line)
    print(
        "- ranges (min-max): "
        + ", ".join(
            (
                spread("floor start", floors, "start", 1, " s"),
                spread("serve, new database", fresh, "start", 1, " s"),
                spread("serve, restart", current, "start", 1, " s"),
                spread("first store, new database", fresh, "first_store", 1000, " ms"),
                spread("first store, restart", current, "first_store", 1000, " ms"),
            )
        )
    )


if __name__ == "__main__":
    main()
