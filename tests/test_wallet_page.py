"""The wallet's own page (SPEC section 7): GET /wallet in real Chromium, and its rules over HTTP.

Set WALLET_RPC_WALLET_SCREENSHOTS=<directory> to save the empty wallet and the
wallet with credentials there (docs/wallet-empty.png and
docs/wallet-credentials.png are made this way).
"""

from __future__ import annotations

import html
import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, Request

from tests.approval_support import (
    ACCOUNT,
    CONNECT,
    WAIT_SECONDS,
    Caller,
    answer,
    post_decision,
    prompt_settings,
    wait_for_pending,
)
from tests.browser_support import Tab, listening, module_tab, new_page
from tests.conftest import InProcessServerFactory, page_in_browser, refused_by_peer
from tests.operations_support import KEY_A, unsigned_credential
from tests.page_support import (
    HOSTILE_NAME,
    HOSTILE_VALUE,
    REFUSED_FORM_POSTS,
    assert_shown_escaped,
    cors_headers,
    hostile_credential,
)
from tests.support import ALLOWED_ORIGIN, Response, Server, non_loopback_address, seed_credential

WAIT_MS = WAIT_SECONDS * 1000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OTHER_ORIGIN = "https://dapp.example.org"
NOT_CONNECTED = 1001
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def two_origins() -> dict[str, dict[str, Any]]:
    return {"security": {"allowed_origins": [ALLOWED_ORIGIN, OTHER_ORIGIN]}}


@pytest.fixture
def wallet(make_in_process_server: InProcessServerFactory) -> Server:
    return make_in_process_server(two_origins())


def connect(server: Server, origin: str) -> None:
    assert server.call(CONNECT, origin=origin)["result"] == [ACCOUNT]


def store(server: Server, credential: dict[str, Any], origin: str) -> None:
    reply = server.call("mina_storePrivateCredential", {"credential": credential}, origin=origin)
    assert "result" in reply, reply


def state(server: Server) -> dict[str, Any]:
    response = server.get("/wallet.json")
    assert response.status == 200, (response.status, response.body)
    loaded: dict[str, Any] = response.json()
    return loaded


def stored_ids(server: Server) -> list[int]:
    return [entry["id"] for entry in state(server)["credentials"]]


def fill_two_origins(server: Server) -> None:
    """The native sample through one origin, an unsigned credential through the other."""
    connect(server, ALLOWED_ORIGIN)
    connect(server, OTHER_ORIGIN)
    store(server, seed_credential(), ALLOWED_ORIGIN)
    store(server, unsigned_credential("second"), OTHER_ORIGIN)


def wallet_url(server: Server, path: str = "/wallet") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def form_token(server: Server) -> str:
    found = _TOKEN.search(server.get("/wallet").body.decode("utf-8"))
    assert found is not None, "the wallet page has no form"
    return html.unescape(found.group(1))


def post_form(
    server: Server,
    path: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
) -> Response:
    return server.request(
        "POST",
        path,
        urllib.parse.urlencode(fields).encode("utf-8"),
        {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )


# --- in Chromium -------------------------------------------------------------------------


PAGE_SETTINGS: dict[str, Any] = {"height": 900, "light": True, "timeout_ms": WAIT_MS}
WIDTH = 1100


@pytest.fixture(scope="module")
def tab(browser: Browser) -> Iterator[Tab]:
    with module_tab(browser, width=WIDTH, **PAGE_SETTINGS) as opened:
        yield opened


@pytest.fixture
def page(tab: Tab) -> Iterator[Page]:
    with tab.for_one_test() as page:
        yield page


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:
    opened = new_page(browser, width=WIDTH, javascript=False, **PAGE_SETTINGS)
    yield opened
    opened.context.close()


def save_screenshot(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    if directory := os.environ.get("WALLET_RPC_WALLET_SCREENSHOTS"):
        page.screenshot(path=str(Path(directory) / name), full_page=True)


@pytest.mark.browser
@page_in_browser
def test_the_page_lists_what_two_origins_stored(page: Page, wallet: Server, tmp_path: Path) -> None:
    page.goto(wallet_url(wallet))
    assert "No credential is stored." in page.inner_text("#credentials")
    assert "No site is connected." in page.inner_text("#connections")
    save_screenshot(page, tmp_path, "wallet-empty.png")

    fill_two_origins(wallet)
    page.goto(wallet_url(wallet))

    assert ACCOUNT in page.inner_text(".summary")
    assert page.inner_text("#pending") == "0 requests wait for approval"
    assert page.get_attribute("#pending", "href") == "/approvals"
    connections = page.inner_text("#connections")
    assert ALLOWED_ORIGIN in connections
    assert OTHER_ORIGIN in connections
    listed = state(wallet)["credentials"]
    newest, oldest = listed
    # Newest first, as in the JSON.
    shown_ids = page.eval_on_selector_all(
        "article.credential", "(cards) => cards.map((card) => card.id)"
    )
    assert shown_ids == [f"credential-{newest['id']}", f"credential-{oldest['id']}"]

    native = page.inner_text(f"#credential-{oldest['id']}")
    assert ALLOWED_ORIGIN in native
    assert "verified" in native
    assert "not verified" not in native
    assert "native: signed by its issuer" in native
    assert seed_credential()["credential"]["owner"]["value"] in native
    assert seed_credential()["witness"]["issuer"]["value"] in native
    assert "-215913411073" in native  # readable, as on the approval page
    assert "2026-04-26 05:45:33 UTC" in native
    stored_at = page.get_attribute(f"#credential-{oldest['id']} time", "datetime")
    assert stored_at == oldest["stored_at"]

    unsigned = page.inner_text(f"#credential-{newest['id']}")
    assert OTHER_ORIGIN in unsigned
    assert "not verified" in unsigned
    assert "unsigned" in unsigned
    assert "second-city" in unsigned

    activity = page.inner_text("#activity")
    assert "mina_storePrivateCredential" in activity
    assert "mina_requestAccounts" in activity
    save_screenshot(page, tmp_path, "wallet-credentials.png")


@pytest.mark.browser
@page_in_browser
def test_disconnect_forgets_the_origin_in_one_click(page: Page, wallet: Server) -> None:
    fill_two_origins(wallet)
    page.goto(wallet_url(wallet))

    page.locator("#connections li", has_text=OTHER_ORIGIN).get_by_role(
        "button", name="Disconnect"
    ).click()

    page.wait_for_selector(".notice")
    assert page.inner_text(".notice").startswith("Disconnected.")
    assert OTHER_ORIGIN not in page.inner_text("#connections")
    assert wallet.call("mina_accounts", origin=OTHER_ORIGIN)["result"] == []
    refused = wallet.call(
        "mina_storePrivateCredential",
        {"credential": unsigned_credential("after")},
        origin=OTHER_ORIGIN,
    )
    assert refused["error"]["code"] == NOT_CONNECTED
    assert wallet.call("mina_accounts", origin=ALLOWED_ORIGIN)["result"] == [ACCOUNT]
    # Its credentials stay: disconnecting is not deleting.
    assert len(stored_ids(wallet)) == 2


@pytest.mark.browser
@page_in_browser
def test_delete_asks_first_and_does_what_the_answer_says(page: Page, wallet: Server) -> None:
    fill_two_origins(wallet)
    newest, oldest = stored_ids(wallet)
    page.goto(wallet_url(wallet))
    requests: list[Request] = []
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    with listening(page, "request", requests.append):
        page.once("dialog", dismiss)
        page.click(f"#delete-{oldest}")
        assert asked == [
            f"Delete credential {oldest}, stored by {ALLOWED_ORIGIN}? This cannot be undone."
        ]

        page.once("dialog", accept)
        with page.expect_navigation(url=re.compile(rf"done=deleted&id={newest}$")):
            page.click(f"#delete-{newest}")

    posts = [request for request in requests if request.method == "POST"]
    # One post: the dismissed Delete sent nothing.
    assert [request.url for request in posts] == [
        wallet_url(wallet, f"/wallet/credentials/{newest}/delete")
    ]
    assert page.inner_text(".notice") == f"Deleted credential {newest}."
    assert stored_ids(wallet) == [oldest]
    assert page.query_selector(f"#credential-{newest}") is None
    assert page.query_selector(f"#credential-{oldest}") is not None


@pytest.mark.browser
@page_in_browser
def test_changes_appear_without_a_reload(page: Page, wallet: Server, caller: Caller) -> None:
    connect(wallet, ALLOWED_ORIGIN)
    page.goto(wallet_url(wallet))
    page.evaluate("window.sameDocument = true")

    store(wallet, unsigned_credential("live"), ALLOWED_ORIGIN)
    (entry,) = state(wallet)["credentials"]
    page.wait_for_selector(f"#credential-{entry['id']}")
    assert "live-city" in page.inner_text(f"#credential-{entry['id']}")
    connect(wallet, OTHER_ORIGIN)
    page.wait_for_selector(f"#connections li:has-text('{OTHER_ORIGIN}')")

    assert page.evaluate("window.sameDocument") is True


@pytest.mark.browser
@page_in_browser
def test_pending_approvals_are_counted_live(
    page: Page, make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    wallet = make_in_process_server(prompt_settings())
    page.goto(wallet_url(wallet))
    waiting = caller.call(wallet, CONNECT)
    (entry,) = wait_for_pending(wallet)

    page.wait_for_selector("#pending:has-text('1 request waits for approval')")
    post_decision(wallet, entry["id"], "reject", ALLOWED_ORIGIN)
    answer(waiting)
    page.wait_for_selector("#pending:has-text('0 requests wait for approval')")


@pytest.mark.browser
@page_in_browser
def test_without_javascript_reloading_shows_changes_and_delete_confirms_on_the_page(
    no_js_page: Page, wallet: Server
) -> None:
    page = no_js_page
    fill_two_origins(wallet)
    newest, oldest = stored_ids(wallet)
    page.goto(wallet_url(wallet))
    assert page.query_selector(f"#credential-{newest}") is not None

    page.click(f"#delete-{oldest}")
    page.wait_for_selector("#confirm")
    assert f"Delete credential {oldest}?" in page.inner_text("#confirm")
    assert ALLOWED_ORIGIN in page.inner_text("#confirm")
    assert stored_ids(wallet) == [newest, oldest]

    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#confirm", state="detached")
    assert stored_ids(wallet) == [newest, oldest]

    page.click(f"#delete-{oldest}")
    page.click("#confirm-delete")
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == f"Deleted credential {oldest}."
    assert stored_ids(wallet) == [newest]

    page.locator("#connections li", has_text=ALLOWED_ORIGIN).get_by_role(
        "button", name="Disconnect"
    ).click()
    page.wait_for_selector(".notice")
    assert ALLOWED_ORIGIN not in page.inner_text("#connections")
    assert wallet.call("mina_accounts", origin=ALLOWED_ORIGIN)["result"] == []

    store(wallet, unsigned_credential("reloaded"), OTHER_ORIGIN)
    page.reload()
    assert "reloaded-city" in page.inner_text("#credentials")


@pytest.mark.browser
@page_in_browser
def test_hostile_text_is_shown_escaped_and_runs_nothing(page: Page, wallet: Server) -> None:
    connect(wallet, ALLOWED_ORIGIN)
    store(wallet, hostile_credential(), ALLOWED_ORIGIN)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with listening(page, "dialog", dismiss):
        page.goto(wallet_url(wallet))

    card = page.inner_text("article.credential")
    assert "name\\u202egpj.exe" in card
    assert "<script>alert(1)</script>\\u001b[2J\\u000d\\u000aowner: B62forged" in card
    assert "\u202e" not in card
    assert "\x1b" not in card
    assert page.eval_on_selector_all("article.credential script", "(found) => found.length") == 0
    assert dialogs == []


@pytest.mark.browser
@page_in_browser
def test_the_page_is_readable_on_a_phone(browser: Browser, wallet: Server) -> None:
    fill_two_origins(wallet)
    page = new_page(browser, width=360, **PAGE_SETTINGS)
    try:
        page.goto(wallet_url(wallet))
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
        # Keyboard: Tab reaches the buttons, which are real buttons in forms.
        buttons = page.eval_on_selector_all(
            "main button", "(all) => all.map((b) => b.tagName + ':' + !!b.form)"
        )
        assert buttons
        assert set(buttons) == {"BUTTON:true"}
        page.focus("#disconnect-1")
        page.keyboard.press("Enter")
        page.wait_for_selector(".notice")
        assert len(state(wallet)["connections"]) == 1
    finally:
        page.context.close()


# --- over HTTP ---------------------------------------------------------------------------


def test_the_json_is_the_stored_data(make_in_process_server: InProcessServerFactory) -> None:
    wallet = make_in_process_server(two_origins())
    fill_two_origins(wallet)
    store(wallet, hostile_credential(), OTHER_ORIGIN)

    response = wallet.get("/wallet.json")
    listed = response.json()

    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert listed["account"] == ACCOUNT
    assert {entry["origin"] for entry in listed["connections"]} == {ALLOWED_ORIGIN, OTHER_ORIGIN}
    assert all(set(entry) >= {"origin", "connected_at"} for entry in listed["connections"])
    # Each credential exactly as `credentials list --json` gives it, newest first.
    assert listed["credentials"] == wallet.stored()[::-1]
    assert listed["credentials"][0]["credential"]["credential"]["data"][HOSTILE_NAME] == (
        HOSTILE_VALUE
    )
    assert listed["pending"] == 0


def test_the_page_shows_hostile_text_escaped(
    make_in_process_server: InProcessServerFactory,
) -> None:
    wallet = make_in_process_server(two_origins())
    connect(wallet, ALLOWED_ORIGIN)
    store(wallet, hostile_credential(), ALLOWED_ORIGIN)

    page = wallet.get("/wallet")

    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert_shown_escaped(page.body.decode("utf-8"))


def test_the_wallet_state_answers_304_until_it_changes(wallet: Server) -> None:
    first = wallet.get("/wallet.json")
    etag = first.headers["ETag"]
    assert wallet.get("/wallet.json", headers={"If-None-Match": etag}).status == 304

    connect(wallet, ALLOWED_ORIGIN)

    changed = wallet.get("/wallet.json", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag


def test_with_encryption_at_rest_the_page_decrypts_with_the_configured_key(
    make_in_process_server: InProcessServerFactory,
) -> None:
    wallet = make_in_process_server({"storage": {"encryption_key": KEY_A}})
    connect(wallet, ALLOWED_ORIGIN)
    store(wallet, unsigned_credential("sealed"), ALLOWED_ORIGIN)

    (entry,) = state(wallet)["credentials"]
    page = wallet.get("/wallet").body.decode("utf-8")

    assert entry == wallet.stored()[0]
    assert entry["credential"]["credential"]["data"]["city"] == "sealed-city"
    assert entry["witness_type"] == "unsigned"
    assert "sealed-city" in page
    assert "sealed-metadata-note" in page


def test_get_slash_names_the_wallet_page(shared_in_process_server: Server) -> None:
    answered = shared_in_process_server.get("/")

    assert answered.status == 405
    assert answered.headers["Allow"] == "OPTIONS, POST"
    assert b"/wallet" in answered.body


WALLET_PATHS = ["/wallet", "/wallet.json", "/static/wallet.js"]


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_the_wallet_page_is_for_loopback_host_names_only(
    shared_in_process_server: Server, path: str
) -> None:
    for host in ("evil.example", "evil.example:8787", "192.0.2.7"):
        refused = shared_in_process_server.get(path, headers={"Host": host})
        assert refused.status == 403
        assert b"token" not in refused.body
    for host in ("localhost", f"127.0.0.1:{shared_in_process_server.port}", "[::1]:8787"):
        assert shared_in_process_server.get(path, headers={"Host": host}).status == 200


@pytest.mark.parametrize("path", WALLET_PATHS)
def test_the_wallet_page_carries_no_cors_headers(
    shared_in_process_server: Server, path: str
) -> None:
    origin = {"Origin": ALLOWED_ORIGIN}
    assert cors_headers(
        shared_in_process_server.get("/healthz", headers=origin)
    )  # the origin is allowed

    for answered in (
        shared_in_process_server.get(path, headers=origin),
        shared_in_process_server.get(path, headers={**origin, "Host": "evil.example"}),
        shared_in_process_server.request("PUT", path, headers=origin),
        post_form(
            shared_in_process_server, "/wallet/disconnect", {"origin": ALLOWED_ORIGIN}, origin
        ),
    ):
        assert answered.status in (200, 403, 405)
        assert cors_headers(answered) == {}


@pytest.mark.parametrize("path", ["/wallet", "/wallet.json"])
def test_other_origins_cannot_read_the_wallet_page(
    shared_in_process_server: Server, path: str
) -> None:
    read = shared_in_process_server.get(path, headers={"Origin": ALLOWED_ORIGIN})

    assert read.status == 403
    assert b"token" not in read.body


@refused_by_peer
def test_the_wallet_page_is_refused_to_a_non_loopback_client(
    make_in_process_server: InProcessServerFactory,
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    server = make_in_process_server(two_origins(), host="0.0.0.0")
    remote = Server(server.workdir, server.settings, host=address, port=server.port)

    assert remote.get("/healthz").status == 200
    for path in ("/wallet", "/wallet.json"):
        refused = remote.get(path, headers={"Host": f"localhost:{server.port}"})
        assert refused.status == 403
        assert refused.body == b"Forbidden: the wallet page is served to loopback clients only\n"
    assert remote.request("POST", "/wallet/disconnect", b"").status == 403


def test_refused_posts_are_403_and_change_nothing(
    make_in_process_server: InProcessServerFactory,
) -> None:
    wallet = make_in_process_server(two_origins())
    other = make_in_process_server(two_origins())
    fill_two_origins(wallet)
    newest, oldest = stored_ids(wallet)
    before = state(wallet)
    cases = [*REFUSED_FORM_POSTS, ("token-of-another-server", {}, form_token(other))]

    for case, headers, token in cases:
        given = form_token(wallet) if token is None else token
        disconnect = post_form(
            wallet, "/wallet/disconnect", {"token": given, "origin": ALLOWED_ORIGIN}, headers
        )
        delete = post_form(
            wallet,
            f"/wallet/credentials/{oldest}/delete",
            {"token": given, "confirmed": "yes"},
            headers,
        )
        assert (disconnect.status, delete.status) == (403, 403), case
        assert state(wallet) == before, case

    own = {"Origin": f"http://127.0.0.1:{wallet.port}", "Sec-Fetch-Site": "same-origin"}
    fields = {"token": form_token(wallet), "confirmed": "yes"}
    deleted = post_form(wallet, f"/wallet/credentials/{oldest}/delete", fields, own)
    assert deleted.status == 303
    assert stored_ids(wallet) == [newest]
    fields = {"token": form_token(wallet), "origin": ALLOWED_ORIGIN}
    disconnected = post_form(wallet, "/wallet/disconnect", fields, own)
    assert disconnected.status == 303
    assert wallet.call("mina_accounts", origin=ALLOWED_ORIGIN)["result"] == []
    assert wallet.call("mina_accounts", origin=OTHER_ORIGIN)["result"] == [ACCOUNT]


def test_delete_without_confirmation_leads_to_the_confirmation_step(wallet: Server) -> None:
    fill_two_origins(wallet)
    newest, oldest = stored_ids(wallet)
    token = form_token(wallet)

    asked = post_form(wallet, f"/wallet/credentials/{oldest}/delete", {"token": token})

    assert asked.status == 303
    assert asked.headers["Location"] == f"/wallet?confirm-delete={oldest}"
    assert stored_ids(wallet) == [newest, oldest]
    step = wallet.get(asked.headers["Location"]).body.decode("utf-8")
    assert f"Delete credential {oldest}?" in step
    assert 'name="confirmed" value="yes"' in step
    # The step holds still: no live refresh takes it away.
    assert "data-state" not in step


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/wallet/credentials/999/delete", 303, id="unknown-id"),
        pytest.param("/wallet/credentials/abc/delete", 404, id="not-a-number"),
        pytest.param("/wallet/credentials/1234567890123456789/delete", 404, id="too-long"),
        pytest.param("/wallet/credentials/-1/delete", 404, id="negative"),
    ],
)
def test_deleting_what_is_not_stored_changes_nothing(
    wallet: Server, path: str, status: int
) -> None:
    fill_two_origins(wallet)
    before = stored_ids(wallet)

    answered = post_form(wallet, path, {"token": form_token(wallet), "confirmed": "yes"})

    assert answered.status == status
    assert b"Traceback" not in answered.body
    if status == 303:
        assert answered.headers["Location"] == "/wallet?done=not-found&id=999"
        notice = wallet.get(answered.headers["Location"]).body.decode("utf-8")
        assert "Nothing changed: credential 999 was not stored." in notice
    assert stored_ids(wallet) == before


def test_disconnecting_an_origin_that_is_not_connected_says_so(wallet: Server) -> None:
    connect(wallet, ALLOWED_ORIGIN)

    answered = post_form(
        wallet, "/wallet/disconnect", {"token": form_token(wallet), "origin": OTHER_ORIGIN}
    )
    malformed = post_form(wallet, "/wallet/disconnect", {"token": form_token(wallet)})

    assert answered.headers["Location"] == "/wallet?done=not-connected"
    assert malformed.status == 400
    assert wallet.call("mina_accounts")["result"] == [ACCOUNT]


def test_the_page_counts_pending_approvals(
    make_in_process_server: InProcessServerFactory, caller: Caller
) -> None:
    wallet = make_in_process_server(prompt_settings())
    waiting = caller.call(wallet, CONNECT)
    (entry,) = wait_for_pending(wallet)

    assert state(wallet)["pending"] == 1
    assert "1 request waits for approval" in wallet.get("/wallet").body.decode("utf-8")
    post_decision(wallet, entry["id"], "reject", ALLOWED_ORIGIN)
    answer(waiting)
    assert state(wallet)["pending"] == 0


def test_the_json_is_valid_json_with_unescaped_strings(wallet: Server) -> None:
    connect(wallet, ALLOWED_ORIGIN)
    store(wallet, hostile_credential(), ALLOWED_ORIGIN)

    body = wallet.get("/wallet.json").body.decode("utf-8")

    assert "\u202e" in body
    assert json.loads(body)["credentials"][0]["credential"]["metadata"]["note"].startswith("\u202e")
