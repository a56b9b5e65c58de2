"""Every module says what it holds: a docstring as its first statement, its first line a summary."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
MODULES = sorted(
    path.relative_to(REPOSITORY)
    for root in ("wallet_rpc", "migrations")
    for path in (REPOSITORY / root).rglob("*.py")
)


def summary(source: str) -> str | None:
    """The first line of a module's docstring, or None without one."""
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    if docstring is None:
        return None
    # Raw, not cleaned: cleaning would lift a summary up from a later line.
    return docstring.split("\n", 1)[0].strip() or None


def test_the_modules_are_found() -> None:
    assert Path("wallet_rpc/http/app.py") in MODULES
    assert Path("migrations/env.py") in MODULES


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_module_says_what_it_holds(module: Path) -> None:
    assert summary((REPOSITORY / module).read_text(encoding="utf-8")) is not None


@pytest.mark.parametrize(
    "source",
    [
        "",
        "import sys\n",
        '__version__ = "1"\n"""Too late: not the first statement."""\n',
        '"""\n\nThe summary must be on the first line."""\n',
        "# A comment is no docstring.\nimport sys\n",
    ],
)
def test_a_module_without_one_is_found(source: str) -> None:
    assert summary(source) is None
