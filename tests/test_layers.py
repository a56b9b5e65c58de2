"""Imports point down the layers: http -> rpc -> methods -> service -> storage.

Every module of wallet_rpc, and the migrations (installed as
wallet_rpc.migrations), is read with `ast`. Every import counts: those inside
functions and under TYPE_CHECKING too, since a lazy import is still a
dependency. A layer imports its own modules, the layer just below and the
leaves; the command line (and the other entry points) may import anything,
and nothing imports them. Where a layer reaches further down on purpose, the
exception is named below with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = "wallet_rpc"

LAYERS = ("http", "rpc", "methods", "service", "storage")  # top to bottom
# Used from any layer; they import no layer, only one another.
LEAVES = frozenset({"wallet_rpc", "errors", "display", "config", "mina"})
# Programs: they wire the layers together, so they may import anything.
ENTRY_POINTS = frozenset({"cli", "__main__", "healthcheck"})
# Top-level modules that belong to a layer without being in its folder.
PLACED = {
    "appkeys": "http",  # the typed keys of the aiohttp application
    "migrations": "storage",  # the schema's history, installed inside the package
}

# A layer that may skip the one below it, everywhere.
SKIPS = {
    # The routes that are not JSON-RPC (the pages and their decisions,
    # /healthz, /metrics) and the CORS check of every route have no envelope
    # to go through: they call the service's use cases directly.
    ("http", "service"): "routes that are not JSON-RPC",
}
# One module that reaches further down, and why.
EXCEPTIONS = {
    # The application factory is where the server is put together: it opens
    # the database, its audit queue and sealer, and hands them to the services.
    ("wallet_rpc.http.app", "storage"): "composition root",
    # ... and gives the dispatcher the wallet's methods.
    ("wallet_rpc.http.app", "methods"): "composition root",
    # The JSON-RPC handler builds, from the HTTP request, the CallContext a
    # method receives; rpc carries it through unopened.
    ("wallet_rpc.http.handlers", "methods"): "builds the CallContext",
    # The OpenRPC document's credential schema is generated from the pydantic
    # models that validate a credential, so the two cannot drift apart.
    ("wallet_rpc.rpc.discover", "service"): "schema from the validating models",
}


def _source_files() -> Iterator[tuple[str, Path]]:
    """(module name, path) of every module of the package and of the migrations."""
    roots = (
        (PACKAGE, REPOSITORY / "wallet_rpc"),
        (f"{PACKAGE}.migrations", REPOSITORY / "migrations"),
    )
    for prefix, root in roots:
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((prefix, *parts)), path


MODULES = dict(_source_files())


def place(module: str) -> str:
    """The layer, leaf or entry point a module of the package belongs to."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else PACKAGE
    return PLACED.get(top, top)


def imported_modules(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of our own package in a module, at any depth."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from wallet_rpc import appkeys` imports a module; `from
                # wallet_rpc.errors import InvalidParams` a name from one.
                submodule = f"{base}.{alias.name}"
                yield node.lineno, submodule if submodule in MODULES else base


def _allowed(importer: str, imported: str) -> bool:
    here, there = place(importer), place(imported)
    if here == there or here in ENTRY_POINTS:
        return True
    if there in ENTRY_POINTS:
        return False
    if there in LEAVES:
        return True
    if here in LEAVES:
        return False
    if (here, there) in SKIPS or (importer, there) in EXCEPTIONS:
        return True
    if here not in LAYERS or there not in LAYERS:
        return False
    return LAYERS.index(there) == LAYERS.index(here) + 1


def _violations() -> list[str]:
    found = []
    for importer, path in MODULES.items():
        for line, imported in imported_modules(importer, path):
            if imported.split(".")[0] != PACKAGE:
                continue
            if not _allowed(importer, imported):
                where = path.relative_to(REPOSITORY)
                found.append(f"{where}:{line}: {importer} ({place(importer)}) imports {imported}")
    return found


def test_every_module_has_a_place() -> None:
    known = {*LAYERS, *LEAVES, *ENTRY_POINTS, *PLACED.values()}
    homeless = [module for module in MODULES if place(module) not in known]
    assert homeless == [], "give these a layer, or name them a leaf or an entry point"


def test_imports_point_down_the_layers() -> None:
    assert _violations() == []


def test_every_exception_is_still_needed() -> None:
    used = set()
    for importer, path in MODULES.items():
        for _, imported in imported_modules(importer, path):
            if imported.split(".")[0] == PACKAGE and (importer, place(imported)) in EXCEPTIONS:
                used.add((importer, place(imported)))
    assert set(EXCEPTIONS) - used == set()


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("wallet_rpc.http.metrics", "wallet_rpc.storage.credentials", False),
        ("wallet_rpc.methods", "wallet_rpc.rpc.envelope", False),
        ("wallet_rpc.storage.database", "wallet_rpc.service.wallet", False),
        ("wallet_rpc.service.wallet", "wallet_rpc.http.app", False),
        ("wallet_rpc.http.app", "wallet_rpc.cli.serve", False),
        ("wallet_rpc.mina.keys", "wallet_rpc.storage.tables", False),
        ("wallet_rpc.errors", "wallet_rpc.rpc.errors", False),
        ("wallet_rpc.appkeys", "wallet_rpc.storage.database", False),
        ("wallet_rpc.rpc.dispatch", "wallet_rpc.service.wallet", False),
        ("wallet_rpc.rpc.dispatch", "wallet_rpc.methods", True),
        ("wallet_rpc.service.wallet", "wallet_rpc.storage.database", True),
        ("wallet_rpc.migrations.env", "wallet_rpc.storage.tables", True),
        ("wallet_rpc.config", "wallet_rpc.mina.keys", True),
        ("wallet_rpc.cli.serve", "wallet_rpc.storage.database", True),
    ],
)
def test_the_rule(importer: str, imported: str, allowed: bool) -> None:
    assert _allowed(importer, imported) is allowed


def test_a_lazy_import_counts(tmp_path: Path) -> None:
    source = tmp_path / "metrics.py"
    source.write_text(
        "def gauges():\n    from wallet_rpc.storage import credentials\n    return credentials\n",
        encoding="utf-8",
    )
    assert list(imported_modules("wallet_rpc.http.metrics", source)) == [
        (2, "wallet_rpc.storage.credentials")
    ]
