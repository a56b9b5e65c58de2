"""SPEC section 5's second provider in real Chromium, driven as a mina-js dApp drives it.

The page discovers wallets with createStore() and checks every answer with the
pinned @mina-js/providers' own zod schemas (tests/mina-js/page.js); the same calls
through the provider with slug "wallet-rpc" (window.mina) answer Auro's way.

Set WALLET_RPC_MINA_JS_SCREENSHOT=<file.png> to save the mina-js example after its store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page, Request

from tests.browser_support import StaticSite, Tab, listening, module_tab, serve_directory
from tests.conftest import InProcessServerFactory
from tests.mina_js_support import TEST_PAGE_ENTRY, bundle, copy_example, ensure_packages
from tests.support import REPO, Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", [pytest.param("sqlite", id="sqlite")], indirect=True),
]

ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
CREDENTIAL: dict[str, Any] = json.loads(
    (REPO / "examples" / "mina-js-dapp" / "credential.json").read_text(encoding="utf-8")
)
PALLAD_INFO = {
    "name": "wallet-rpc (Pallad API)",
    "slug": "pallad",
    "rdns": "local.wallet-rpc.pallad",
}
NOT_CONNECTED = {"code": 1001, "message": "User disconnect, need connect Auro Wallet."}
REJECTED = {"code": 1002, "message": "The request was rejected by the user."}
INVALID = {"code": 20003, "message": "The parameters were invalid."}


def eip1193(code: int, message: str, cause: Any) -> dict[str, Any]:
    """How the page describes a ProviderRpcError: only `code` is an own enumerable key."""
    return {
        "isError": True,
        "name": "ProviderRpcError",
        "code": code,
        "message": message,
        "keys": ["code"],
        "cause": cause,
    }


def unsigned_credential(witness_type: str = "unsigned") -> dict[str, Any]:
    """A credential both mina-js's schema (mina-credentials 0.2.6) and wallet-rpc's accept."""
    witness: dict[str, Any] = {"type": witness_type}
    if witness_type == "simple":
        witness = {**CREDENTIAL["witness"], "type": "simple"}
    return {
        "version": "v0",
        "witness": witness,
        "credential": {
            "owner": {"_type": "PublicKey", "value": ACCOUNT},
            "data": {"name": "Alice", "age": {"_type": "Field", "value": "18"}},
        },
    }


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ensure_packages()
    root = tmp_path_factory.mktemp("mina-js-site")
    copy_example(root / "dapp")
    bundle(TEST_PAGE_ENTRY, root / "mina-js.js")
    return root


@pytest.fixture(scope="module")
def site(site_root: Path) -> Iterator[StaticSite]:
    served = serve_directory(site_root)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def foreign_site(site_root: Path) -> Iterator[StaticSite]:
    """The same files on another port: an origin the wallet does not allow."""
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


def wallet_settings(site: StaticSite, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "security": {"allowed_origins": [site.origin], "default_origin": "http://localhost"},
        **extra,
    }


@pytest.fixture
def wallet(make_in_process_server: InProcessServerFactory, site: StaticSite) -> Server:
    return make_in_process_server(wallet_settings(site))


def wallet_url(server: Server) -> str:
    return f"http://{server.host}:{server.port}/"


def mina_js_page(site: StaticSite, server: Server) -> str:
    """A dApp page: provider.js's tag, then the mina-js bundle that creates its store."""
    name = f"mina-js-{server.port}.html"
    (site.root / name).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>mina-js</title>\n"
        f'<script src="{wallet_url(server)}provider.js"></script>\n'
        '<script type="module" src="mina-js.js"></script>\n'
        "</head><body>mina-js dApp page</body></html>\n",
        encoding="utf-8",
    )
    return site.url(name)


def open_page(target: Page | Frame, url: str | None = None) -> None:
    if url is not None and isinstance(target, Page):
        target.goto(url)
    target.wait_for_function("window.minaJs !== undefined")


def settle(target: Page | Frame, slug: str, method: str, params: Any = None) -> dict[str, Any]:
    settled: dict[str, Any] = target.evaluate(
        "([slug, method, params]) => minaJs.settle(slug, method, params ?? undefined)",
        [slug, method, params],
    )
    return settled


def resolved(result: Any) -> dict[str, Any]:
    """Pallad's answer, which mina-js's schema for the method accepts."""
    return {
        "settled": "resolved",
        "response": {"jsonrpc": "2.0", "result": result},
        "accepted": True,
    }


def test_create_store_finds_both_providers(page: Page, site: StaticSite, wallet: Server) -> None:
    open_page(page, mina_js_page(site, wallet))
    found = page.evaluate(
        """() => {
          const fresh = minaJs.createStore();  // as mina-attestations' demo: read at once
          const slugs = fresh.getProviders().map((detail) => detail.info.slug);
          fresh.destroy();
          return {
            slugs,
            details: minaStore.getProviders().map(({info, provider}) => ({
              info,
              infoAccepted: minaJs.infoAccepted(info),
              isWindowMina: provider === window.mina,
              frozen: Object.isFrozen(minaStore.findProvider({slug: info.slug})),
              api: ["request", "on", "removeListener"].map((name) => typeof provider[name]),
            })),
          };
        }"""
    )
    assert found["slugs"] == ["wallet-rpc", "pallad"]
    auro, pallad = found["details"]
    assert {key: pallad["info"][key] for key in PALLAD_INFO} == PALLAD_INFO
    assert sorted(pallad["info"]) == ["icon", "name", "rdns", "slug"]
    assert pallad["info"]["icon"].startswith("data:image/")
    assert (auro["infoAccepted"], pallad["infoAccepted"]) == (True, True)
    assert (auro["isWindowMina"], pallad["isWindowMina"]) == (True, False)
    assert (auro["frozen"], pallad["frozen"]) == (True, True)
    assert auro["api"] == pallad["api"] == ["function"] * 3


def test_pallad_connects_and_stores(page: Page, site: StaticSite, wallet: Server) -> None:
    open_page(page, mina_js_page(site, wallet))
    page.evaluate(
        """() => {
          window.changes = [];
          window.record = (accounts) => changes.push(accounts);
          minaStore.findProvider({slug: "pallad"}).provider.on("accountsChanged", record);
        }"""
    )
    assert settle(page, "pallad", "mina_accounts") == resolved([])
    assert settle(page, "pallad", "mina_requestAccounts") == resolved([ACCOUNT])
    assert settle(page, "pallad", "mina_accounts") == resolved([ACCOUNT])

    assert settle(page, "pallad", "mina_storePrivateCredential", [CREDENTIAL]) == resolved(
        {"success": True}
    )
    [entry] = wallet.stored()
    assert entry["origin"] == site.origin
    assert entry["credential"] == CREDENTIAL
    # The same credential again is stored once, and is a success again.
    assert settle(page, "pallad", "mina_storePrivateCredential", [CREDENTIAL]) == resolved(
        {"success": True}
    )
    assert len(wallet.stored()) == 1

    # Methods mina-js has no schema for pass through, wrapped the same way.
    info = settle(page, "pallad", "wallet_info")
    assert info["response"] == {
        "jsonrpc": "2.0",
        "result": wallet.call("wallet_info", origin=site.origin)["result"],
    }
    assert settle(page, "pallad", "wallet_revokePermissions")["response"] == {
        "jsonrpc": "2.0",
        "result": [],
    }
    # A connection through window.mina is the same origin's: Pallad's listeners hear of it.
    page.evaluate("window.mina.requestAccounts()")
    page.evaluate(
        """minaStore.findProvider({slug: "pallad"})
          .provider.removeListener("accountsChanged", record)"""
    )
    page.evaluate("window.mina.revokePermissions()")
    assert page.evaluate("window.changes") == [[ACCOUNT], [], [ACCOUNT]]


def test_pallad_store_before_connecting_is_4100(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    open_page(page, mina_js_page(site, wallet))
    settled = settle(page, "pallad", "mina_storePrivateCredential", [CREDENTIAL])
    from_server = wallet.call("mina_storePrivateCredential", [CREDENTIAL], origin=site.origin)
    assert from_server["error"] == NOT_CONNECTED
    assert settled == {
        "settled": "rejected",
        "error": eip1193(4100, "Unauthorized", NOT_CONNECTED),
        "accepted": True,
    }
    assert wallet.stored() == []


def test_reject_mode_is_4001_for_pallad_and_1002_for_auro(
    page: Page, site: StaticSite, make_in_process_server: InProcessServerFactory
) -> None:
    rejecting = make_in_process_server(wallet_settings(site, approval={"mode": "reject"}))
    open_page(page, mina_js_page(site, rejecting))
    assert rejecting.call("mina_requestAccounts", origin=site.origin)["error"] == REJECTED
    assert settle(page, "pallad", "mina_requestAccounts") == {
        "settled": "rejected",
        "error": eip1193(4001, "User Rejected Request", REJECTED),
        "accepted": True,
    }
    assert settle(page, "wallet-rpc", "mina_requestAccounts") == {
        "settled": "rejected",
        "error": {"isError": False, "value": REJECTED},
        "accepted": False,
    }
    assert settle(page, "pallad", "mina_accounts") == resolved([])


def test_unserved_method_is_4200_for_pallad_and_32601_for_auro(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    open_page(page, mina_js_page(site, wallet))
    for method in ("mina_requestNetwork", "mina_sign", "mina_getBalance"):
        from_server = wallet.call(method, origin=site.origin)["error"]
        assert from_server["code"] == -32601
        assert settle(page, "pallad", method) == {
            "settled": "rejected",
            "error": eip1193(4200, "Unsupported Method", from_server),
            "accepted": True,
        }
        assert settle(page, "wallet-rpc", method) == {
            "settled": "rejected",
            "error": {"isError": False, "value": from_server},
            "accepted": False,
        }


def test_other_errors_carry_the_servers_code_and_message(
    page: Page, site: StaticSite, make_in_process_server: InProcessServerFactory
) -> None:
    small = make_in_process_server(wallet_settings(site, server={"max_body_bytes": 4096}))
    open_page(page, mina_js_page(site, small))
    assert settle(page, "pallad", "mina_requestAccounts") == resolved([ACCOUNT])

    # A credential as a JSON string, as Auro refuses it.
    as_string = [json.dumps(CREDENTIAL)]
    settled = settle(page, "pallad", "mina_storePrivateCredential", as_string)
    from_server = small.call("mina_storePrivateCredential", as_string, origin=site.origin)["error"]
    assert {key: from_server[key] for key in INVALID} == INVALID
    error = settled["error"]
    assert (settled["settled"], settled["accepted"]) == ("rejected", False)
    assert {key: error[key] for key in ("isError", "name", "code", "message")} == {
        "isError": True,
        "name": "ProviderRpcError",
        **INVALID,
    }
    assert error["cause"] == from_server

    # mina-credentials 0.2.6's "simple" witness: mina-js's own params schema takes it,
    # Pallad (mina-attestations 0.5) and wallet-rpc do not.
    simple = [unsigned_credential("simple")]
    assert page.evaluate("(params) => minaJs.storeParamsAccepted(params)", simple)
    assert settle(page, "pallad", "mina_storePrivateCredential", simple)["error"]["code"] == 20003
    # The forms both know: an unsigned witness over plain strings and Fields.
    unsigned = [unsigned_credential()]
    assert page.evaluate("(params) => minaJs.storeParamsAccepted(params)", unsigned)
    assert settle(page, "pallad", "mina_storePrivateCredential", unsigned) == resolved(
        {"success": True}
    )
    assert [entry["credential"] for entry in small.stored()] == [unsigned[0]]

    # An HTTP error: its status is the code.
    too_big = page.evaluate(
        """() => minaStore.findProvider({slug: "pallad"}).provider
          .request({method: "wallet_info", params: ["x".repeat(8192)]})
          .catch((error) => ({name: error.name, code: error.code, status: error.status}))"""
    )
    assert too_big == {"name": "ProviderRpcError", "code": 413, "status": 413}


def test_disallowed_origin_is_refused_for_pallad(
    page: Page, foreign_site: StaticSite, wallet: Server
) -> None:
    open_page(page, mina_js_page(foreign_site, wallet))
    for method, params in (
        ("mina_requestAccounts", None),
        ("mina_storePrivateCredential", [CREDENTIAL]),
    ):
        settled = settle(page, "pallad", method, params)
        # Without CORS headers the browser hides the answer (4900, the wallet is out of
        # reach); a server answer would be 23001 (4100). Both are mina-js errors.
        assert (settled["settled"], settled["accepted"]) == ("rejected", True), settled
        assert settled["error"]["code"] in (4900, 4100), settled
    assert wallet.stored() == []


@pytest.mark.parametrize("parent", ["same origin", "other origin"])
def test_store_from_an_iframe_stores_nothing_for_either_provider(
    page: Page, site: StaticSite, foreign_site: StaticSite, wallet: Server, parent: str
) -> None:
    framed_url = mina_js_page(site, wallet)
    parent_site = site if parent == "same origin" else foreign_site
    framing = f"framing-{wallet.port}.html"
    (site.root / framing).write_text(
        f'<!doctype html><html><body><iframe src="{framed_url}"></iframe></body></html>\n',
        encoding="utf-8",
    )
    page.goto(parent_site.url(framing))
    frame = next(frame for frame in page.frames if frame.url == framed_url)
    open_page(frame)
    assert settle(frame, "pallad", "mina_requestAccounts") == resolved([ACCOUNT])

    wallet_calls: list[Request] = []
    with listening(page, "request", wallet_calls.append):
        # Pallad's dialect: a store result mina-js accepts, and not a success.
        assert settle(frame, "pallad", "mina_storePrivateCredential", [CREDENTIAL]) == resolved(
            {"success": False}
        )
        # Auro's: nothing at all.
        assert settle(
            frame, "wallet-rpc", "mina_storePrivateCredential", {"credential": CREDENTIAL}
        ) == {
            "settled": "resolved",
            "response": None,
            "accepted": None,
        }
    assert [call.url for call in wallet_calls if call.url == wallet_url(wallet)] == []
    assert wallet.stored() == []

    # The same page, top-level, stores: only the frame was refused.
    open_page(page, framed_url)
    assert settle(page, "pallad", "mina_storePrivateCredential", [CREDENTIAL]) == resolved(
        {"success": True}
    )
    assert len(wallet.stored()) == 1


def test_auro_provider_answers_auros_way(page: Page, site: StaticSite, wallet: Server) -> None:
    open_page(page, mina_js_page(site, wallet))
    assert settle(
        page, "wallet-rpc", "mina_storePrivateCredential", {"credential": CREDENTIAL}
    ) == {
        "settled": "rejected",
        "error": {"isError": False, "value": NOT_CONNECTED},
        "accepted": False,
    }
    # A bare result: mina-js reads `.result` of it and finds nothing.
    assert settle(page, "wallet-rpc", "mina_requestAccounts") == {
        "settled": "resolved",
        "response": [ACCOUNT],
        "accepted": False,
    }
    stored = settle(page, "wallet-rpc", "mina_storePrivateCredential", {"credential": CREDENTIAL})
    assert stored["response"] == {
        "credential": json.dumps(CREDENTIAL, separators=(",", ":"), ensure_ascii=False)
    }
    assert stored["accepted"] is False
    assert len(wallet.stored()) == 1


def test_example_mina_js_dapp_connects_and_stores(
    page: Page, site: StaticSite, wallet: Server
) -> None:
    page.goto(site.url(f"dapp/index.html?wallet={wallet_url(wallet)}"))
    page.wait_for_selector("#store:enabled")
    assert page.text_content("#wallet-name") == PALLAD_INFO["name"]
    assert page.eval_on_selector_all(
        "#wallets li", "items => items.map((i) => i.dataset.slug)"
    ) == [
        "wallet-rpc",
        "pallad",
    ]

    page.click("#connect")
    page.wait_for_selector('#answer[data-state="ok"][data-method="mina_requestAccounts"]')
    assert page.text_content("#account") == ACCOUNT
    page.click("#store")
    page.wait_for_selector('#answer[data-state="ok"][data-method="mina_storePrivateCredential"]')
    assert page.evaluate("window.lastAnswer") == {
        "response": {"jsonrpc": "2.0", "result": {"success": True}},
        "verdict": {"schema": "mina_storePrivateCredential return schema", "accepted": True},
    }
    assert page.get_attribute("#verdict", "data-accepted") == "true"
    [entry] = wallet.stored()
    assert (entry["origin"], entry["credential"]) == (site.origin, CREDENTIAL)

    screenshot = os.environ.get("WALLET_RPC_MINA_JS_SCREENSHOT")
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)
