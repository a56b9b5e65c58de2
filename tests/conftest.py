from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Server, merge

ServerFactory = Callable[..., Server]


def base_settings(database_url: str) -> dict[str, dict[str, Any]]:
    return {
        "database": {"url": database_url},
        "security": {"default_origin": "http://localhost"},
    }


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}"


@pytest.fixture
def make_server(tmp_path: Path, database_url: str) -> Iterator[ServerFactory]:
    """Start real servers; each call gets its own config, all share this test's database."""
    started: list[Server] = []

    def start(settings: dict[str, dict[str, Any]] | None = None, **options: Any) -> Server:
        base = base_settings(database_url)
        merge(base, settings or {})
        server = Server(tmp_path / f"server{len(started)}", base, **options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    """A fresh server and database for this test alone."""
    return make_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a whole module of tests that do not depend on what is stored."""
    workdir = tmp_path_factory.mktemp("shared")
    server = Server(workdir, base_settings(f"sqlite+aiosqlite:///{workdir / 'wallet.db'}"))
    server.start()
    yield server
    server.stop()
