"""The audit trail: a row per wallet method call, committed with what it records."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from tests.conftest import InProcessServerFactory, ServerFactory
from tests.operations_support import (
    ACCOUNT,
    AUDIT_WAIT_SECONDS,
    add_audit_rows,
    audit,
    audit_of,
    store,
    store_many,
    unsigned_credential,
)
from tests.support import ALLOWED_ORIGIN, WITHOUT_SIGNATURE_WORKERS, error_code, seed_credential
from wallet_rpc import __version__

STORE = "mina_storePrivateCredential"


def _summary(entries: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        (entry["origin"], entry["method"], entry["outcome"], entry["code"], entry["result"])
        for entry in entries
    ]


def test_each_call_leaves_a_row_with_its_outcome(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    assert server.call("mina_accounts")["result"] == []
    assert error_code(store(server, seed_credential())) == 1001
    assert server.call("mina_requestAccounts")["result"] == [ACCOUNT]
    first = store(server, seed_credential())["result"]
    assert store(server, seed_credential())["result"] == first
    assert error_code(store(server, json.dumps(seed_credential()))) == 20003
    assert error_code(server.call("wallet_info", origin="https://evil.example")) == 23001
    assert server.call("wallet_info")["result"]["init"] is True
    assert server.call("mina_accounts")["result"] == [ACCOUNT]
    assert server.call("wallet_revokePermissions")["result"] == []
    # Not wallet methods: no rows.
    assert "result" in server.call("rpc.discover")
    assert error_code(server.call("no_such_method")) == -32601

    entries = audit_of(server, 10)
    [stored] = server.stored()
    info = {"version": __version__, "init": True}
    assert _summary(entries) == [
        (ALLOWED_ORIGIN, "mina_accounts", "ok", None, []),
        (ALLOWED_ORIGIN, STORE, "error", 1001, None),
        (ALLOWED_ORIGIN, "mina_requestAccounts", "ok", None, [ACCOUNT]),
        (ALLOWED_ORIGIN, STORE, "ok", None, "stored"),
        (ALLOWED_ORIGIN, STORE, "ok", None, "duplicate"),
        (ALLOWED_ORIGIN, STORE, "error", 20003, None),
        ("https://evil.example", "wallet_info", "error", 23001, None),
        (ALLOWED_ORIGIN, "wallet_info", "ok", None, info),
        (ALLOWED_ORIGIN, "mina_accounts", "ok", None, [ACCOUNT]),
        (ALLOWED_ORIGIN, "wallet_revokePermissions", "ok", None, []),
    ]
    assert [entry["credential_id"] for entry in entries] == [None] * 3 + [stored["id"]] * 2 + [
        None
    ] * 5
    moments = [datetime.fromisoformat(str(entry["at"])) for entry in entries]
    assert moments == sorted(moments)
    assert all(moment.tzinfo is not None for moment in moments)


def test_rejections_and_rate_limits_are_recorded(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server(
        {"approval": {"mode": "reject"}, "security": {"rate_limit_per_minute": 2}}
    )
    assert error_code(server.call("mina_requestAccounts")) == 1002
    assert "result" in server.call("wallet_info")
    assert error_code(server.call("wallet_info")) == 22001
    assert error_code(server.call("mina_requestAccounts", origin=None)) == 1002
    entries = audit_of(server, 4)
    assert [(entry["origin"], entry["method"], entry["code"]) for entry in entries] == [
        (ALLOWED_ORIGIN, "mina_requestAccounts", 1002),
        (ALLOWED_ORIGIN, "wallet_info", None),
        (ALLOWED_ORIGIN, "wallet_info", 22001),
        # No Origin header: the default origin is the one recorded.
        ("http://localhost", "mina_requestAccounts", 1002),
    ]


def test_a_store_and_its_row_commit_together_even_under_kill_9(make_server: ServerFactory) -> None:
    server = make_server(WITHOUT_SIGNATURE_WORKERS)
    server.call("mina_requestAccounts")
    answers = store_many(server, [unsigned_credential(f"kill-{index}") for index in range(40)])
    assert all("result" in answer for answer in answers)
    # No grace: what the answers promised must already be on disk, rows included.
    server.kill()
    stored_ids = sorted(entry["id"] for entry in server.stored())
    rows = [entry for entry in audit(server) if entry["method"] == STORE]
    assert len(stored_ids) == 40
    assert sorted(entry["credential_id"] for entry in rows) == stored_ids
    assert {entry["result"] for entry in rows} == {"stored"}


def test_the_trail_filters_by_origin_and_time(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    before = datetime.now(UTC) - timedelta(seconds=1)
    server.call("mina_requestAccounts")
    server.call("mina_requestAccounts", origin="http://localhost")
    assert len(audit_of(server, 2)) == 2
    [entry] = audit(server, "--origin", "http://localhost")
    assert entry["origin"] == "http://localhost"
    assert len(audit(server, "--since", before.isoformat())) == 2
    assert audit(server, "--since", (datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []
    [last] = audit(server, "--limit", "1")
    assert last["origin"] == "http://localhost"
    refused = server.cli_here("audit", "--since", "yesterday-ish")
    assert refused.returncode == 2
    assert "ISO 8601" in refused.stderr
    listed = server.cli_here("audit")
    assert listed.returncode == 0
    assert listed.stdout.count("\n") == 2
    assert "mina_requestAccounts\tok" in listed.stdout


def test_rows_past_the_retention_are_pruned_in_batches_at_start(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server()
    server.call("mina_requestAccounts")
    now = datetime.now(UTC)
    # More than two batches (PRUNE_BATCH_ROWS) of old rows, and some inside the retention.
    old = [now - timedelta(days=3, seconds=n) for n in range(12_001)]
    recent = [now - timedelta(hours=23, seconds=n) for n in range(3)]
    add_audit_rows(server, old + recent)
    assert len(audit_of(server, 12_005)) == 12_005
    assert server.stop() == 0

    server.settings["storage"] = {"audit_retention_days": 1}
    server.write_config()
    server.start()

    deadline = time.monotonic() + AUDIT_WAIT_SECONDS
    while len(entries := audit(server)) > 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    kept = sorted(datetime.fromisoformat(str(entry["at"])) for entry in entries)
    assert kept[:3] == sorted(recent)
    assert [entry["method"] for entry in entries][-1] == "mina_requestAccounts"
    assert len(entries) == 4
