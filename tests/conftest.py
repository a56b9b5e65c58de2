from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
from hypothesis import settings

from tests.approval_support import Caller
from tests.browser_support import launch_chromium, skip_without_chromium
from tests.databases import (
    POSTGRES_URL_VARIABLE,
    SKIP_REASON,
    PostgresCluster,
    postgres_url_from_environment,
)
from tests.in_process import InProcessServer
from tests.support import Server, merge

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ServerT = TypeVar("ServerT", bound=Server)

ServerFactory = Callable[..., Server]
InProcessServerFactory = Callable[..., InProcessServer]

# No per-example deadline: a timed assertion fails on a busy machine, not on a bug.
settings.register_profile("wallet-rpc", deadline=None)
# CI replays the same examples on every run, so that a red build is a finding
# someone can reproduce, never a coin toss; elsewhere every run explores anew.
settings.register_profile(
    "ci", settings.get_profile("wallet-rpc"), derandomize=True, database=None, print_blob=True
)
IN_CI = os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}
settings.load_profile("ci" if IN_CI else "wallet-rpc")

# Every test that starts a server runs once per backend. PostgreSQL runs are
# skipped, with the reason shown, when no server is named; never passed unrun.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
# For a test about PostgreSQL itself: its server fixtures use only that backend.
postgres_only = pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)
# For a test about SQLite's files: its server fixtures use only that backend.
sqlite_only = pytest.mark.parametrize("database_url", BACKENDS[:1], indirect=True)
# For a test of what Chromium does with a page: the page's script and layout are the
# same whatever the backend, and what a page reads and writes through each backend
# is tested over HTTP on both. Its server fixtures use SQLite.
page_in_browser = sqlite_only
# For a test of a request refused by the peer it comes from, before the store is
# asked: the backend cannot change the answer. Its server fixtures use SQLite.
refused_by_peer = sqlite_only


def base_settings(database_url: str) -> dict[str, dict[str, Any]]:
    return {
        "database": {"url": database_url},
        "security": {"default_origin": "http://localhost"},
    }


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The PostgreSQL server of the run, with a template database migrated once."""
    url = postgres_url_from_environment()
    if url is None:
        pytest.skip(SKIP_REASON)
    # Named but unusable is an error, not a skip: CI must not pass without it.
    cluster = PostgresCluster(url)
    cluster.prepare_template()
    yield cluster
    cluster.close()


@contextmanager
def fresh_database(request: pytest.FixtureRequest, backend: str, directory: Path) -> Iterator[str]:
    """A migrated, empty database of this backend; a PostgreSQL one is emptied for reuse after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'wallet.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = cluster.create_database()
    try:
        yield cluster.url_of(name)
    finally:
        cluster.release_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request, request.param, tmp_path) as url:
        yield url


@contextmanager
def started_servers(
    kind: type[Server], tmp_path: Path, database_url: str
) -> Iterator[Callable[..., Server]]:
    """Start servers of a kind; each call gets its own config, all share one database."""
    started: list[Server] = []

    def start(settings: dict[str, dict[str, Any]] | None = None, **options: Any) -> Server:
        base = base_settings(database_url)
        merge(base, settings or {})
        server = kind(tmp_path / f"server{len(started)}", base, **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def make_server(tmp_path: Path, database_url: str) -> Iterator[ServerFactory]:
    """Start real `wallet-rpc serve` processes; each call gets its own config, all share
    this test's database. For what needs a process: signals, kill -9, its output."""
    with started_servers(Server, tmp_path, database_url) as start:
        yield start


@pytest.fixture
def make_in_process_server(tmp_path: Path, database_url: str) -> Iterator[InProcessServerFactory]:
    """Start the real application in threads of this process, as make_server starts processes."""
    with started_servers(InProcessServer, tmp_path, database_url) as start:
        yield cast(InProcessServerFactory, start)


@pytest.fixture
def caller() -> Iterator[Caller]:
    """Calls made in the background, as a dApp waiting on prompt mode would."""
    background = Caller()
    yield background
    background.close()


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    """A fresh server and database for this test alone."""
    return make_server()


@pytest.fixture
def in_process_server(make_in_process_server: InProcessServerFactory) -> InProcessServer:
    """A fresh server in this process, and a fresh database, for this test alone."""
    return make_in_process_server()


@contextmanager
def _shared(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    kind: type[ServerT],
) -> Iterator[ServerT]:
    workdir = tmp_path_factory.mktemp("shared")
    with fresh_database(request, request.param, workdir) as url:
        server = kind(workdir, base_settings(url))
        server.start()
        yield server
        server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_in_process_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """One server in this process for a module of tests that do not depend on what is stored."""
    with _shared(request, tmp_path_factory, InProcessServer) as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a whole module of tests that do not depend on what is stored."""
    with _shared(request, tmp_path_factory, Server) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for a module's browser tests (skipped, with the reason, where none is found)."""
    with launch_chromium() as launched:
        yield launched


def _backend_of(report: pytest.TestReport) -> str | None:
    """The backend a test ran on: its parameter id, or the postgres mark of a PostgreSQL test."""
    _, _, parameters = report.nodeid.partition("[")
    ids = set(parameters.rstrip("]").split("-"))
    if "postgres" in ids or "postgres" in getattr(report, "keywords", {}):
        return "postgres"
    return "sqlite" if "sqlite" in ids else None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per backend, so a run shows that PostgreSQL ran and how much of it was skipped."""
    counts: dict[str, dict[str, int]] = {"sqlite": {}, "postgres": {}}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            backend = _backend_of(report)
            if backend is None or (outcome == "passed" and report.when != "call"):
                continue
            counts[backend][outcome] = counts[backend].get(outcome, 0) + 1
    if any(counts.values()):
        terminalreporter.write_sep("-", "tests per database backend")
        for backend, outcomes in counts.items():
            figures = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
            terminalreporter.write_line(f"{backend}: {figures or 'none'}")
    for needed, skipped in _skipped_for_want.items():
        rule = _rule_against_skipping(needed)
        if skipped and rule is not None:
            terminalreporter.write_line(
                f"FAILED: {len(skipped)} test(s) needing {needed} skipped although {rule}",
                red=True,
            )


# What a machine may lack. Where it lacks them, the tests that need them are
# skipped with the reason; CI provides both, so there such a skip fails the
# run instead of passing it quietly, and so does a skipped PostgreSQL test
# wherever a PostgreSQL server is named.
_skipped_for_want: dict[str, list[str]] = {"PostgreSQL": [], "Chromium": []}


def _needs(report: pytest.TestReport) -> str | None:
    if _backend_of(report) == "postgres":
        return "PostgreSQL"
    if "browser" in getattr(report, "keywords", {}):
        return "Chromium"
    return None


def _rule_against_skipping(needed: str) -> str | None:
    if IN_CI:
        return "CI=true"
    if needed == "PostgreSQL" and postgres_url_from_environment() is not None:
        return f"{POSTGRES_URL_VARIABLE} is set"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A browser test without a Chromium is skipped before any of its fixtures start."""
    if item.get_closest_marker("browser") is not None:
        skip_without_chromium()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    expected_failure = hasattr(report, "wasxfail")
    needed = _needs(report)
    if report.skipped and not expected_failure and needed is not None:
        _skipped_for_want[needed].append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if any(
        skipped and _rule_against_skipping(needed) is not None
        for needed, skipped in _skipped_for_want.items()
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
