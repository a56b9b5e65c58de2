"""SPEC section 5 in real Chromium: a dApp page on its own origin uses window.mina.

Pages are served by small static servers on other ports: `site` is an allowed
origin, `foreign_site` is not. The wallet's default_origin is not allowed, so
a call that reaches it without the page's Origin header could not succeed.

Set WALLET_RPC_DAPP_SCREENSHOT=<file.png> to save the example dApp after its store.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page, Request

from tests.browser_support import StaticSite, Tab, listening, module_tab, serve_directory
from tests.conftest import InProcessServerFactory
from tests.support import REPO, Server, seed_credential

# What happens in the browser does not depend on the storage backend: SQLite only.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", [pytest.param("sqlite", id="sqlite")], indirect=True),
]

EXAMPLE_DAPP = REPO / "examples" / "dapp"
ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
NOT_CONNECTED = {"code": 1001, "message": "User disconnect, need connect Auro Wallet."}
REJECTED = {"code": 1002, "message": "The request was rejected by the user."}

# Settles a call in the page: {"result": ...} or {"error": ...}; an Error (the
# browser refused the call) becomes {"name", "message"}, a JSON-RPC error stays as it came.
SETTLE = """async ([method, params]) => {
  try {
    return {settled: "resolved", result: await window.mina.request({method, params})};
  } catch (error) {
    const plain = error instanceof Error ? {name: error.name, message: error.message} : error;
    return {settled: "rejected", error: plain};
  }
}"""


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE_DAPP, root / "dapp")
    return root


@pytest.fixture(scope="module")
def site(site_root: Path) -> Iterator[StaticSite]:
    served = serve_directory(site_root)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def foreign_site(site_root: Path) -> Iterator[StaticSite]:
    """The same files on another port: another origin, one the wallet does not allow."""
    served = serve_directory(site_root)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def tab(browser: Browser) -> Iterator[Tab]:
    with module_tab(browser, width=900, height=1000) as opened:
        yield opened


@pytest.fixture
def page(tab: Tab) -> Iterator[Page]:
    with tab.for_one_test() as page:
        yield page


def wallet_settings(site: StaticSite, **approval: str) -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = {
        "security": {"allowed_origins": [site.origin], "default_origin": "http://localhost"}
    }
    if approval:
        settings["approval"] = approval
    return settings


@pytest.fixture
def wallet(make_in_process_server: InProcessServerFactory, site: StaticSite) -> Server:
    return make_in_process_server(wallet_settings(site))


def wallet_url(server: Server) -> str:
    return f"http://{server.host}:{server.port}/"


def provider_page(site: StaticSite, server: Server) -> str:
    """A page with the one tag a dApp adds; it also records announcements made at load."""
    name = f"plain-{server.port}.html"
    (site.root / name).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>plain</title>\n"
        "<script>window.announced = [];\n"
        "addEventListener('mina:announceProvider', (e) => announced.push(e.detail.info.slug));\n"
        "</script>\n"
        f'<script src="{wallet_url(server)}provider.js"></script>\n'
        "</head><body>plain dApp page</body></html>\n",
        encoding="utf-8",
    )
    return name


def framing_page(site: StaticSite, framed_url: str, name: str) -> str:
    (site.root / name).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>frame</title></head>"
        f'<body><iframe src="{framed_url}" width="400" height="200"></iframe></body></html>\n',
        encoding="utf-8",
    )
    return name


def open_provider_page(page: Page, site: StaticSite, server: Server) -> None:
    page.goto(site.url(provider_page(site, server)))
    page.wait_for_function("window.mina !== undefined")


def settle(target: Page | Frame, method: str, params: Any = None) -> dict[str, Any]:
    settled: dict[str, Any] = target.evaluate(SETTLE, [method, params])
    return settled


def store_params() -> dict[str, Any]:
    return {"credential": seed_credential()}


def answered_store(credential: dict[str, Any]) -> str:
    return json.dumps(credential, separators=(",", ":"), ensure_ascii=False)


def test_example_dapp_connects_and_stores(page: Page, site: StaticSite, wallet: Server) -> None:
    page.goto(site.url(f"dapp/index.html?wallet={wallet_url(wallet)}"))
    page.wait_for_selector("#store:enabled")
    assert page.text_content("#wallet-name") == "wallet-rpc (local.wallet-rpc)"

    page.click("#connect")
    page.wait_for_selector('#answer[data-state="ok"][data-method="mina_requestAccounts"]')
    assert page.text_content("#account") == ACCOUNT

    page.click("#store")
    page.wait_for_selector('#answer[data-state="ok"][data-method="mina_storePrivateCredential"]')
    answer = page.evaluate("window.lastAnswer")
    assert answer == {"result": {"credential": answered_store(seed_credential())}}
    [entry] = wallet.stored()
    assert entry["origin"] == site.origin
    assert entry["credential"] == seed_credential()
    assert json.loads(page.text_content("#answer-body") or "") == seed_credential()

    screenshot = os.environ.get("WALLET_RPC_DAPP_SCREENSHOT")
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)


def test_example_dapp_shows_error_codes(page: Page, site: StaticSite, wallet: Server) -> None:
    page.goto(site.url(f"dapp/index.html?wallet={wallet_url(wallet)}"))
    page.wait_for_selector("#store:enabled")

    page.click("#store")
    page.wait_for_selector('#answer[data-state="error"]')
    assert page.evaluate("window.lastAnswer") == {"error": NOT_CONNECTED}
    assert page.text_content("#error-codes tr.seen td:nth-child(3)") == NOT_CONNECTED["message"]

    page.click("#connect")
    page.wait_for_selector('#answer[data-state="ok"]')
    page.click("#store-broken")
    page.wait_for_selector('#answer[data-state="error"]')
    error = page.evaluate("window.lastAnswer.error")
    assert error["code"] == 20003
    assert page.text_content("#error-codes tr.seen td:nth-child(1)") == "20003"
    assert wallet.stored() == []


def test_store_before_connecting_is_1001(page: Page, site: StaticSite, wallet: Server) -> None:
    open_provider_page(page, site, wallet)
    settled = settle(page, "mina_storePrivateCredential", store_params())
    assert settled == {"settled": "rejected", "error": NOT_CONNECTED}
    from_server = wallet.call("mina_storePrivateCredential", store_params(), origin=site.origin)
    assert settled["error"] == from_server["error"]
    assert wallet.stored() == []


def test_convenience_method_rejects_with_the_servers_error_object(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    open_provider_page(page, site, wallet)
    assert page.evaluate("window.mina.requestAccounts()") == [ACCOUNT]
    broken = {"credential": json.dumps(seed_credential())}
    rejection = page.evaluate(
        "(params) => window.mina.storePrivateCredential(params).catch((error) => error)", broken
    )
    from_server = wallet.call("mina_storePrivateCredential", broken, origin=site.origin)
    assert from_server["error"]["code"] == 20003
    assert rejection == from_server["error"]
    assert wallet.stored() == []


def test_unknown_method_rejects_as_the_server_answers(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    open_provider_page(page, site, wallet)
    settled = page.evaluate("() => window.mina.requestNetwork().catch((error) => error)")
    assert settled == wallet.call("mina_requestNetwork", origin=site.origin)["error"]
    assert settled["code"] == -32601


def test_http_error_rejects_with_its_status(
    page: Page, site: StaticSite, make_in_process_server: InProcessServerFactory
) -> None:
    small = make_in_process_server({**wallet_settings(site), "server": {"max_body_bytes": 4096}})
    open_provider_page(page, site, small)
    settled = page.evaluate(
        """() => window.mina.request({method: "wallet_info", params: ["x".repeat(8192)]})
          .catch((error) => ({name: error.name, status: error.status}))"""
    )
    assert settled == {"name": "Error", "status": 413}


def test_user_rejection_is_1002(
    page: Page, site: StaticSite, make_in_process_server: InProcessServerFactory
) -> None:
    rejecting = make_in_process_server(wallet_settings(site, mode="reject"))
    open_provider_page(page, site, rejecting)
    assert settle(page, "mina_requestAccounts") == {"settled": "rejected", "error": REJECTED}
    assert page.evaluate("window.mina.getAccounts()") == []
    assert rejecting.call("mina_accounts", origin=site.origin)["result"] == []


def test_disallowed_origin_cannot_store(
    page: Page, foreign_site: StaticSite, site: StaticSite, wallet: Server
) -> None:
    open_provider_page(page, foreign_site, wallet)
    for method, params in (
        ("mina_requestAccounts", None),
        ("mina_storePrivateCredential", store_params()),
    ):
        settled = settle(page, method, params)
        assert settled["settled"] == "rejected"
        error = settled["error"]
        # The browser refuses the call after a preflight without CORS headers, or the
        # server answers 23001: either way the page learns nothing and nothing happens.
        assert error.get("name") == "TypeError" or error.get("code") == 23001, error
    assert wallet.stored() == []
    assert wallet.call("mina_accounts", origin=foreign_site.origin)["result"] == []


def test_announces_on_load_and_on_request(page: Page, site: StaticSite, wallet: Server) -> None:
    open_provider_page(page, site, wallet)
    # window.mina first, then the one in Pallad's dialect (tests/test_browser_mina_js.py).
    assert page.evaluate("window.announced") == ["wallet-rpc", "pallad"]
    detail = page.evaluate(
        """() => new Promise((resolve) => {
          window.addEventListener("mina:announceProvider", async (event) => {
            resolve({
              custom: event instanceof CustomEvent,
              frozen: Object.isFrozen(event.detail),
              info: event.detail.info,
              same: event.detail.provider === window.mina,
              walletInfo: await event.detail.provider.request({method: "wallet_info"}),
            });
          }, {once: true});
          window.dispatchEvent(new Event("mina:requestProvider"));
        })"""
    )
    info = detail.pop("info")
    assert detail == {
        "custom": True,
        "frozen": True,
        "same": True,
        "walletInfo": wallet.call("wallet_info", origin=site.origin)["result"],
    }
    assert {key: info[key] for key in ("name", "slug", "rdns")} == {
        "name": "wallet-rpc",
        "slug": "wallet-rpc",
        "rdns": "local.wallet-rpc",
    }
    assert info["icon"].startswith("data:image/")
    assert page.evaluate("window.announced") == ["wallet-rpc", "pallad", "wallet-rpc", "pallad"]


def test_accounts_changed_follows_connect_and_disconnect(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    open_provider_page(page, site, wallet)
    page.evaluate("window.changes = []; window.mina.on('accountsChanged', (a) => changes.push(a))")
    page.evaluate("window.mina.requestAccounts()")
    page.evaluate("window.mina.revokePermissions()")
    assert page.evaluate("window.changes") == [[ACCOUNT], []]


@pytest.mark.parametrize("parent", ["same origin", "other origin"])
def test_store_from_an_iframe_resolves_and_stores_nothing(
    page: Page, site: StaticSite, foreign_site: StaticSite, wallet: Server, parent: str
) -> None:
    framed_url = site.url(provider_page(site, wallet))
    parent_site = site if parent == "same origin" else foreign_site
    page.goto(parent_site.url(framing_page(site, framed_url, f"framing-{wallet.port}.html")))
    frame = next(frame for frame in page.frames if frame.url == framed_url)
    frame.wait_for_function("window.mina !== undefined")
    assert frame.evaluate("window.mina.requestAccounts()") == [ACCOUNT]

    wallet_calls: list[Request] = []
    endpoint = wallet_url(wallet)
    with listening(page, "request", wallet_calls.append):
        through_method = frame.evaluate(
            "(params) => window.mina.storePrivateCredential(params)", store_params()
        )
        through_request = settle(frame, "mina_storePrivateCredential", store_params())
    assert through_method is None
    assert through_request == {"settled": "resolved", "result": None}
    assert [call.url for call in wallet_calls if call.url == endpoint] == []
    assert wallet.stored() == []

    # The same origin, connected, stores as the top-level page: only the frame was refused.
    page.goto(framed_url)
    page.wait_for_function("window.mina !== undefined")
    assert settle(page, "mina_storePrivateCredential", store_params()) == {
        "settled": "resolved",
        "result": {"credential": answered_store(seed_credential())},
    }
    assert len(wallet.stored()) == 1
