"""Where the machine lacks Chromium or PostgreSQL: found or skipped with the reason; CI fails.

The suite itself is run in a child pytest, with the browser pointed at a path
that does not exist and no PostgreSQL named, as on a machine without either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM_VARIABLE, find_chromium
from tests.databases import POSTGRES_URL_VARIABLE
from tests.support import REPO

BROWSER_MODULES = ("tests/test_browser.py", "tests/test_approvals_browser.py")


def never_called() -> Path | None:
    raise AssertionError("looked further than it should")


def not_on_path(name: str) -> str | None:
    return None


def test_a_named_chromium_is_the_only_one_tried(tmp_path: Path) -> None:
    executable = Path(sys.executable).resolve()
    found = find_chromium({CHROMIUM_VARIABLE: str(executable)}, playwright_build=never_called)
    assert found.executable == executable

    missing = tmp_path / "no-chromium-here"
    search = find_chromium({CHROMIUM_VARIABLE: str(missing)}, playwright_build=never_called)
    assert search.executable is None
    assert str(missing) in search.reason
    assert "not an executable file" in search.reason


def test_none_turns_the_browser_off() -> None:
    search = find_chromium({CHROMIUM_VARIABLE: "none"}, playwright_build=never_called)
    assert search.executable is None
    assert search.reason == f"Chromium turned off: {CHROMIUM_VARIABLE}=none"


def test_without_a_name_debian_then_path_then_playwright(tmp_path: Path) -> None:
    absent = tmp_path / "usr-bin-chromium"
    playwright = tmp_path / "ms-playwright-chrome"
    on_path = "/somewhere/chromium"

    def found_on_path(name: str) -> str | None:
        return on_path if name == "chromium" else None

    assert find_chromium({}, absent, found_on_path, never_called).executable == Path(on_path)
    search = find_chromium({}, absent, not_on_path, lambda: playwright)
    assert search.executable == playwright
    search = find_chromium({}, absent, not_on_path, lambda: None)
    assert search.executable is None
    assert CHROMIUM_VARIABLE in search.reason
    assert "playwright install chromium" in search.reason


def run_suite(*arguments: str, ci: bool) -> subprocess.CompletedProcess[str]:
    """A child pytest on this machine as if it had neither Chromium nor PostgreSQL."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"CI", POSTGRES_URL_VARIABLE} and not name.startswith("PYTEST_")
    }
    env[CHROMIUM_VARIABLE] = str(REPO / "tests" / "no-such-chromium")
    if ci:
        env["CI"] = "true"
    command = [sys.executable, "-m", "pytest", *arguments]
    command += ["-n", "0", "-p", "no:cacheprovider", "-q", "-rs"]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_browser_and_postgres_tests_skip_with_the_reason_and_fail_under_ci() -> None:
    # Both wants in one child run each (a child pytest is the cost here): the
    # browser modules, and the PostgreSQL runs of a module that has them.
    selection = (*BROWSER_MODULES, "tests/test_cors.py", "-m", "browser or postgres")
    away = run_suite(*selection, ci=False)
    assert away.returncode == 0, away.stdout[-3000:]
    assert "no-such-chromium is not an executable file" in away.stdout
    assert f"PostgreSQL not configured: set {POSTGRES_URL_VARIABLE}" in away.stdout
    assert " passed" not in away.stdout.splitlines()[-1]

    in_ci = run_suite(*selection, ci=True)
    assert in_ci.returncode == pytest.ExitCode.TESTS_FAILED, in_ci.stdout[-3000:]
    assert "test(s) needing Chromium skipped although CI=true" in in_ci.stdout
    assert "test(s) needing PostgreSQL skipped although CI=true" in in_ci.stdout
