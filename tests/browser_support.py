"""A Chromium driven by Playwright: the one way the suite finds and starts a browser.

Where the Chromium comes from, first found:

1. WALLET_RPC_TEST_CHROMIUM: the path of a Chromium (or Chrome) executable,
   and then the only one tried; `none` turns the browser tests off.
2. Debian's package: /usr/bin/chromium.
3. `chromium` or `chromium-browser` on PATH.
4. Playwright's own build (`.venv/bin/playwright install chromium`).

Where none is found, each browser test (marker `browser`) is skipped with the
reason; under CI=true such a skip fails the run (tests/conftest.py).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM_VARIABLE = "WALLET_RPC_TEST_CHROMIUM"
TURNED_OFF = "none"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
COMMAND_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class ChromiumSearch:
    """The outcome of looking for a Chromium: its path, or why there is none."""

    executable: Path | None
    reason: str


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> Path | None:
    """The Chromium build Playwright downloads, where it has been installed."""
    with sync_playwright() as playwright:
        path = Path(playwright.chromium.executable_path)
    return path if _is_executable(path) else None


def find_chromium(
    environ: Mapping[str, str] = os.environ,
    debian: Path = DEBIAN_CHROMIUM,
    on_path: Callable[[str], str | None] = shutil.which,
    playwright_build: Callable[[], Path | None] = playwright_chromium,
) -> ChromiumSearch:
    named = environ.get(CHROMIUM_VARIABLE, "").strip()
    if named.lower() == TURNED_OFF:
        return ChromiumSearch(None, f"Chromium turned off: {CHROMIUM_VARIABLE}={named}")
    if named:
        path = Path(named)
        if _is_executable(path):
            return ChromiumSearch(path, f"{CHROMIUM_VARIABLE}={named}")
        return ChromiumSearch(
            None, f"Chromium not found: {CHROMIUM_VARIABLE}={named} is not an executable file"
        )
    if _is_executable(debian):
        return ChromiumSearch(debian, f"Debian's {debian}")
    for name in COMMAND_NAMES:
        found = on_path(name)
        if found:
            return ChromiumSearch(Path(found), f"{name} on PATH")
    built = playwright_build()
    if built is not None:
        return ChromiumSearch(built, "Playwright's own build")
    return ChromiumSearch(
        None,
        f"Chromium not found: set {CHROMIUM_VARIABLE} to one, install Debian's chromium"
        f" ({debian}), or run .venv/bin/playwright install chromium",
    )


@functools.cache
def chromium_of_this_run() -> ChromiumSearch:
    return find_chromium()


def skip_without_chromium() -> Path:
    """The Chromium of this run; with none, skip the calling test and say why."""
    search = chromium_of_this_run()
    if search.executable is None:
        pytest.skip(search.reason)
    return search.executable


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    executable = skip_without_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(
    browser: Browser,
    *,
    width: int,
    height: int,
    javascript: bool = True,
    light: bool = False,
    timeout_ms: float | None = None,
) -> Page:
    """A page in a context of its own (close it with `page.context.close()`)."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="light" if light else None,
        java_script_enabled=javascript,
    )
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
    return context.new_page()


class Tab:
    """One page that a module's tests take turns in, each starting from a blank document.

    A new context per test starts a new renderer process: about 0.7 CPU-s a
    test, more than most tests spend on anything else. Navigating one page
    from test to test keeps its renderer. What a test leaves in the document
    (scripts, timers, globals) goes with the navigation to about:blank; no
    page of the suite uses cookies or web storage, which would stay. A test
    that adds an event listener removes it (`listening`), and one that needs
    other settings (no JavaScript, a phone's width) opens a page of its own.
    """

    def __init__(self, browser: Browser, **settings: Any) -> None:
        self._browser = browser
        self._settings = settings
        self._page: Page | None = None

    @contextmanager
    def for_one_test(self) -> Iterator[Page]:
        if self._page is None:
            self._page = new_page(self._browser, **self._settings)
        yield self._page
        try:
            self._page.goto("about:blank")
        except PlaywrightError:
            # A page the test left unusable (crashed, closed) is replaced, not reused.
            self.close()

    def close(self) -> None:
        if self._page is not None:
            page, self._page = self._page, None
            page.context.close()


@contextmanager
def module_tab(browser: Browser, **settings: Any) -> Iterator[Tab]:
    tab = Tab(browser, **settings)
    try:
        yield tab
    finally:
        tab.close()


@contextmanager
def listening(page: Page, event: str, handler: Callable[[Any], Any]) -> Iterator[None]:
    """`handler` hears `event` for the block only: the page outlives the test."""

    def heard(value: Any) -> None:  # Playwright can remove a Python function, not a builtin
        handler(value)

    page.on(event, heard)  # type: ignore[call-overload]
    try:
        yield
    finally:
        page.remove_listener(event, heard)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class StaticSite:
    """A plain static web server on 127.0.0.1: a dApp's own origin."""

    root: Path
    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.origin}/{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def serve_directory(root: Path) -> StaticSite:
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return StaticSite(root, httpd, thread)
