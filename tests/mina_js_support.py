"""mina-js in the browser tests: the example's pinned npm packages, and pages bundled with esbuild.

The packages are the ones `examples/mina-js-dapp/package-lock.json` pins, installed
into that folder by `npm ci` (.ci/run does it; a test session does it when they are
missing and npm is there). Bundles are written to the tests' temporary folders.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import REPO

MINA_JS_DAPP = REPO / "examples" / "mina-js-dapp"
NODE_MODULES = MINA_JS_DAPP / "node_modules"
TEST_PAGE_ENTRY = REPO / "tests" / "mina-js" / "page.js"
# npm writes this copy of the lockfile once it has installed what the lockfile names.
INSTALLED_LOCKFILE = NODE_MODULES / ".package-lock.json"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"


def _skip_or_fail(reason: str) -> None:
    # CI must run these tests: there, a missing tool is a broken machine, not a skip.
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _installed() -> bool:
    return (
        ESBUILD.exists()
        and INSTALLED_LOCKFILE.exists()
        and INSTALLED_LOCKFILE.stat().st_mtime
        >= (MINA_JS_DAPP / "package-lock.json").stat().st_mtime
    )


def ensure_packages() -> None:
    """The pinned packages in the example's node_modules, or a skip saying why not."""
    if shutil.which("node") is None:
        _skip_or_fail("node is not installed: the mina-js pages cannot be bundled")
    if _installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        _skip_or_fail(
            "npm is not installed and examples/mina-js-dapp has no node_modules: run `npm ci` there"
        )
        return
    # Several test workers may get here at once: one installs, the others wait for it.
    lock_path = Path(tempfile.gettempdir()) / "wallet-rpc-mina-js-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=MINA_JS_DAPP,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        _skip_or_fail(f"`npm ci` in examples/mina-js-dapp failed:\n{done.stderr[-2000:]}")


def bundle(entry: Path, outfile: Path) -> None:
    """One ES module with everything it imports, resolved in the example's node_modules."""
    built = subprocess.run(
        [
            str(ESBUILD),
            str(entry),
            "--bundle",
            "--format=esm",
            "--target=chrome100",
            "--log-level=warning",
            f"--outfile={outfile}",
        ],
        cwd=REPO,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, f"esbuild could not bundle {entry}:\n{built.stderr}"


def copy_example(destination: Path) -> Path:
    """The mina-js example dApp's files, with its bundle built, as a static site serves them."""
    shutil.copytree(
        MINA_JS_DAPP, destination, ignore=shutil.ignore_patterns("node_modules", "dist")
    )
    bundle(MINA_JS_DAPP / "src" / "dapp.js", destination / "dist" / "dapp.js")
    return destination
