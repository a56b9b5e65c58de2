"""Helpers of the operations tests: credentials to store, the audit trail, keys, CLI runs."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from tests.support import ALLOWED_ORIGIN, Server
from wallet_rpc.storage.audit import AuditEntry, insert_audit
from wallet_rpc.storage.database import Database

ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
# Another valid address, as the owner of credentials that are not the wallet's own.
OTHER_OWNER = "B62qp6y93m7HztH5jvn12gHJphzAZrZq3daD792hi8a6WSivDS62M6y"
KEY_A = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
KEY_B = base64.urlsafe_b64encode(bytes(range(100, 132))).decode().rstrip("=")
# Rows queued by calls that write nothing commit with the writer's next group.
AUDIT_WAIT_SECONDS = 30


def unsigned_credential(tag: str) -> dict[str, Any]:
    """A distinct credential whose values all contain `tag`."""
    return {
        "version": "v0",
        "witness": {"type": "unsigned"},
        "metadata": {"note": f"{tag}-metadata-note"},
        "credential": {
            "owner": {"_type": "PublicKey", "value": OTHER_OWNER},
            "data": {"name": f"{tag}-name", "city": f"{tag}-city"},
        },
    }


def store(server: Server, credential: Any, origin: str | None = ALLOWED_ORIGIN) -> dict[str, Any]:
    return server.call("mina_storePrivateCredential", {"credential": credential}, origin=origin)


def store_many(server: Server, credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda credential: store(server, credential), credentials))


def audit(server: Server, *arguments: str) -> list[dict[str, Any]]:
    """`wallet-rpc audit --json`, run in this process: tests wait on it."""
    listed = server.cli_here("audit", "--json", *arguments)
    assert listed.returncode == 0, listed.stderr
    entries: list[dict[str, Any]] = json.loads(listed.stdout)
    return entries


def audit_of(server: Server, count: int) -> list[dict[str, Any]]:
    """The audit trail once it holds `count` rows (or what it holds when the wait ends)."""
    deadline = time.monotonic() + AUDIT_WAIT_SECONDS
    entries = audit(server)
    while len(entries) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        entries = audit(server)
    return entries


def add_audit_rows(server: Server, moments: list[datetime]) -> None:
    """Rows in the server's trail as if calls had come at these moments (the server may run)."""
    entries = [AuditEntry(at, ALLOWED_ORIGIN, "wallet_info", None, None) for at in moments]

    async def add() -> None:
        database = Database(server.database_url)
        await database.open()
        try:
            await database.write(lambda connection: insert_audit(connection, entries))
        finally:
            await database.close()

    # A thread of its own: the caller may be inside an event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, add()).result()


def with_key(server: Server, key: str | None) -> None:
    """Set (or remove) [storage] encryption_key in the server's config file."""
    storage = server.settings.setdefault("storage", {})
    if key is None:
        storage.pop("encryption_key", None)
    else:
        storage["encryption_key"] = key
    server.write_config()
