"""The wheel: it carries the package and the top-level migrations/, and migrates from anywhere."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from tests.support import REPO, child_environment
from wallet_rpc.storage.database import alembic_config

# What building the wheel reads; copied out so the build writes nothing in the repository.
BUILD_INPUTS = ("pyproject.toml", "README.md", "wallet_rpc", "migrations")
# Where each source tree lies inside the installed package.
INSTALLED_AS = {"wallet_rpc": "wallet_rpc", "migrations": "wallet_rpc/migrations"}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


def source_files() -> set[str]:
    """Every file of the package and of migrations/, as the wheel should name it."""
    expected = set()
    for tree, installed in INSTALLED_AS.items():
        for path in (REPO / tree).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                expected.add(f"{installed}/{path.relative_to(REPO / tree).as_posix()}")
    return expected


def build_wheel(workdir: Path) -> Path:
    source = workdir / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=IGNORED)
        else:
            shutil.copy2(origin, source / name)
    dist = workdir / "dist"
    # A path, never a bare name: pip would look a bare name up on the index.
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)], workdir)
    [wheel] = dist.glob("wallet_rpc-*.whl")
    return wheel


def fresh_venv(workdir: Path) -> Path:
    """A new venv holding nothing; the dependencies come from this one, by a .pth line.

    Only the wheel's own files make up wallet_rpc there: a directory named in
    a .pth line joins sys.path after the venv's own site-packages, and its
    .pth files (this venv's editable install among them) are not run.
    """
    venv = workdir / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], workdir)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            workdir,
        ).strip()
    )
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (purelib / "dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return python


def package_name(init: Path) -> str:
    """The installed name of the package whose __init__.py this is."""
    tree, *subpackages, _ = init.relative_to(REPO).parts
    return ".".join([INSTALLED_AS[tree].replace("/", "."), *subpackages])


def test_pyproject_lists_every_package() -> None:
    """setuptools is given the list (it cannot find a mapped folder), so a new one must join it."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    present = {
        package_name(init) for tree in INSTALLED_AS for init in (REPO / tree).rglob("__init__.py")
    }
    assert present == listed, "pyproject.toml [tool.setuptools] packages must name each package"


@pytest.mark.slow
def test_an_installed_wheel_migrates_a_new_database_from_any_directory(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    missing = source_files() - names
    assert not missing, f"the wheel lacks {sorted(missing)}: list the package in pyproject.toml"
    assert b"License-Expression: Apache-2.0" in metadata.splitlines()

    python = fresh_venv(tmp_path)
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)],
        tmp_path,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in child_environment().items() if name != "PYTHONPATH"}
    located = run(
        [str(python), "-c", "import wallet_rpc.migrations as m; print(m.__file__)"], elsewhere, env
    )
    assert Path(located.strip()).is_relative_to(python.parent.parent), located

    run([str(python.parent / "wallet-rpc"), "migrate"], elsewhere, env)

    database = elsewhere / "wallet.db"
    assert database.is_file()
    with sqlite3.connect(database) as connection:
        versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    heads = ScriptDirectory.from_config(alembic_config(f"sqlite:///{database}")).get_heads()
    assert versions == set(heads)
