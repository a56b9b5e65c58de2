"""Prompt mode in real Chromium: a person approves or rejects on GET /approvals.

Set WALLET_RPC_APPROVALS_SCREENSHOT=<file.png> to save the page with one
pending credential (docs/approvals.png is made this way).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.approval_support import (
    ACCOUNT,
    CONNECT,
    REJECTED,
    STORE,
    WAIT_SECONDS,
    Caller,
    answer,
    connect,
    form_token,
    pending,
    post_decision,
    prompt_settings,
    store_params,
    stored_by_cli,
    wait_for_pending,
)
from tests.browser_support import StaticSite, Tab, module_tab, new_page, serve_directory
from tests.conftest import InProcessServerFactory, page_in_browser
from tests.support import ALLOWED_ORIGIN, Server, seed_credential

pytestmark = [pytest.mark.browser, page_in_browser]

WAIT_MS = WAIT_SECONDS * 1000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


PAGE_SETTINGS: dict[str, Any] = {"width": 960, "height": 900, "light": True, "timeout_ms": WAIT_MS}


def approval_page(browser: Browser, *, javascript: bool = True) -> Page:
    return new_page(browser, javascript=javascript, **PAGE_SETTINGS)


@pytest.fixture(scope="module")
def tab(browser: Browser) -> Iterator[Tab]:
    with module_tab(browser, **PAGE_SETTINGS) as opened:
        yield opened


@pytest.fixture
def page(tab: Tab) -> Iterator[Page]:
    with tab.for_one_test() as page:
        yield page


@pytest.fixture
def wallet(make_in_process_server: InProcessServerFactory) -> Server:
    return make_in_process_server(prompt_settings())


def approvals_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/approvals"


def card(page: Page, approval_id: str) -> str:
    return f"#request-{approval_id}"


def test_a_pending_store_appears_and_approve_stores_it(
    page: Page, wallet: Server, caller: Caller, tmp_path: Path
) -> None:
    connect(wallet, caller)
    page.goto(approvals_url(wallet))
    assert "Nothing is waiting." in page.inner_text("main")

    waiting = caller.call(wallet, STORE, store_params())
    (entry,) = wait_for_pending(wallet)
    # The open page picks the request up by itself.
    shown = page.wait_for_selector(card(page, entry["id"]))
    assert shown is not None
    text = shown.inner_text()
    assert ALLOWED_ORIGIN in text
    assert STORE in text
    assert seed_credential()["credential"]["owner"]["value"] in text
    assert "-215913411073" in text
    assert "2026-04-26 05:45:33 UTC" in text
    assert page.title() == "(1) Approvals · wallet-rpc"
    screenshot = tmp_path / "approvals.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    if saved := os.environ.get("WALLET_RPC_APPROVALS_SCREENSHOT"):
        page.screenshot(path=saved, full_page=True)
    assert not waiting.done()

    page.click(f"{card(page, entry['id'])} button:has-text('Approve')")

    reply = answer(waiting)
    assert "error" not in reply, reply
    assert json.loads(reply["result"]["credential"]) == seed_credential()
    assert len(stored_by_cli(wallet)) == 1
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == f"Approved request {entry['id']}."
    assert page.query_selector("article.request") is None


def test_reject_on_the_page_gives_1002_and_stores_nothing(
    page: Page, wallet: Server, caller: Caller
) -> None:
    connect(wallet, caller)
    waiting = caller.call(wallet, STORE, store_params())
    (entry,) = wait_for_pending(wallet)
    page.goto(approvals_url(wallet))

    page.click(f"{card(page, entry['id'])} button:has-text('Reject')")

    assert answer(waiting)["error"] == REJECTED
    assert stored_by_cli(wallet) == []
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == f"Rejected request {entry['id']}."


def test_a_request_that_leaves_disappears_from_the_open_page(
    make_in_process_server: InProcessServerFactory, page: Page, caller: Caller
) -> None:
    wallet = make_in_process_server(prompt_settings(timeout_seconds=2))
    waiting = caller.call(wallet, CONNECT)
    (entry,) = wait_for_pending(wallet)
    page.goto(approvals_url(wallet))
    page.wait_for_selector(card(page, entry["id"]))

    assert answer(waiting)["error"] == REJECTED  # timed out

    page.wait_for_selector(card(page, entry["id"]), state="detached")
    assert "Nothing is waiting." in page.inner_text("main")


def test_without_javascript_the_page_refreshes_and_decides(
    browser: Browser, wallet: Server, caller: Caller
) -> None:
    page = approval_page(browser, javascript=False)
    try:
        page.goto(approvals_url(wallet))
        assert "Nothing is waiting." in page.inner_text("main")
        waiting = caller.call(wallet, CONNECT)
        (entry,) = wait_for_pending(wallet)

        page.wait_for_selector(card(page, entry["id"]))  # by <meta http-equiv=refresh>
        page.click(f"{card(page, entry['id'])} button:has-text('Approve')")

        assert answer(waiting)["result"] == [ACCOUNT]
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """A dApp's own origin, a static server on another port of 127.0.0.1."""
    served = serve_directory(tmp_path_factory.mktemp("site"))
    yield served
    served.stop()


@pytest.fixture
def dapp_wallet(make_in_process_server: InProcessServerFactory, site: StaticSite) -> Server:
    settings = prompt_settings()
    settings["security"] = {"allowed_origins": [site.origin, ALLOWED_ORIGIN]}
    return make_in_process_server(settings)


def dapp_page(site: StaticSite, wallet: Server, body: str = "") -> str:
    """A page of the dApp that loads the wallet's provider.js, as a dApp adds it."""
    name = f"dapp-{wallet.port}.html"
    (site.root / name).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>dApp</title>"
        f'<script src="http://127.0.0.1:{wallet.port}/provider.js"></script>'
        f"</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return site.url(name)


def test_a_dapp_and_the_approval_page_in_one_browser(
    browser: Browser, page: Page, dapp_wallet: Server, site: StaticSite
) -> None:
    """The whole flow: a dApp tab asks through window.mina, the person approves in another tab."""
    dapp = approval_page(browser)
    try:
        dapp.goto(dapp_page(site, dapp_wallet))
        dapp.wait_for_function("window.mina !== undefined")
        # Not awaited here: the promise settles only once the person decides.
        dapp.evaluate("() => { window.connecting = window.mina.requestAccounts(); }")
        (entry,) = wait_for_pending(dapp_wallet)
        assert entry["origin"] == site.origin
        page.goto(approvals_url(dapp_wallet))
        page.click(f"{card(page, entry['id'])} button:has-text('Approve')")
        assert dapp.evaluate("window.connecting") == [ACCOUNT]

        dapp.evaluate(
            "(params) => { window.storing = window.mina.storePrivateCredential(params)"
            ".then((result) => ({result}), (error) => ({error})); }",
            store_params(),
        )
        (entry,) = wait_for_pending(dapp_wallet)
        page.goto(approvals_url(dapp_wallet))
        page.click(f"{card(page, entry['id'])} button:has-text('Approve')")

        stored: dict[str, Any] = dapp.evaluate("window.storing")
        assert json.loads(stored["result"]["credential"]) == seed_credential()
        assert len(stored_by_cli(dapp_wallet)) == 1
    finally:
        dapp.context.close()


def test_a_dapp_in_the_same_browser_cannot_approve_its_own_request(
    page: Page, dapp_wallet: Server, site: StaticSite, caller: Caller
) -> None:
    """Even an allowed dApp origin, holding the page's token, cannot read the page or post to it."""
    waiting = caller.call(dapp_wallet, CONNECT)
    (entry,) = wait_for_pending(dapp_wallet)
    token = form_token(dapp_wallet)
    target = f"{approvals_url(dapp_wallet)}/{entry['id']}"
    forged_form = (
        f'<form id="forged" method="post" action="{target}">'
        f'<input name="token" value="{token}"><input name="origin" value="{ALLOWED_ORIGIN}">'
        '<input name="decision" value="approve"></form>'
    )
    page.goto(dapp_page(site, dapp_wallet, forged_form))

    read = page.evaluate(
        "async (url) => { try { const r = await fetch(url);"
        " return {status: r.status, body: await r.text()}; }"
        " catch (error) { return {failed: String(error)}; } }",
        approvals_url(dapp_wallet),
    )
    # The page and its refusals carry no CORS headers: the script learns not even a status.
    assert read == {"failed": "TypeError: Failed to fetch"}

    with page.expect_navigation():
        page.evaluate("document.getElementById('forged').submit()")
    assert "decisions are accepted from the approval page only" in page.inner_text("body")
    assert pending(dapp_wallet) == [entry]
    assert not waiting.done()

    assert post_decision(dapp_wallet, entry["id"], "reject", ALLOWED_ORIGIN).status == 303
    assert answer(waiting)["error"] == REJECTED
