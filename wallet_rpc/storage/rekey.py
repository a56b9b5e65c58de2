"""Re-sealing every credential body under a new key, in batches that survive a kill.

Each batch is one transaction that rewrites rows whole (body, key id, dedup
key), so a row is always entirely under the old key or entirely under the
new one. `storage_keys` lists both keys until no row uses the old one; a
server refuses to start on a database in that state, and running the rekey
again with the same keys picks up where it stopped.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.engine import make_url

from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import (
    HIDDEN,
    PLAINTEXT_KEY_ID,
    KeyRole,
    SealedBodyError,
    Sealer,
    StorageKeyError,
    add_storage_key,
    described,
    read_storage_keys,
)
from wallet_rpc.storage.tables import credentials, storage_keys
from wallet_rpc.storage.writer import WriteJob

# The digest a stored body's dedup key is made of (service.credential.stored_dedup_digest).
DigestOf = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Batch:
    last_id: int
    rows_seen: int
    rows_rekeyed: int


def _set_final_keys(connection: Connection, new: Sealer) -> None:
    connection.execute(delete(storage_keys))
    if new.key_id is not None:
        add_storage_key(connection, new.storage_key_id, KeyRole.ACTIVE)


def begin(old: Sealer, new: Sealer) -> WriteJob[bool]:
    """Mark the new key active and the old one retiring; False when nothing is left to do.

    Raises StorageKeyError, before anything is written, when the keys do not
    fit the database.
    """

    def job(connection: Connection) -> bool:
        rows = read_storage_keys(connection)
        has_credentials = connection.execute(select(credentials.c.id).limit(1)).first() is not None
        present = {row.key_id for row in rows} if rows else set()
        if not rows and has_credentials:
            present = {PLAINTEXT_KEY_ID}
        allowed = {old.storage_key_id, new.storage_key_id}
        if not present <= allowed:
            if len(present) > 1:
                raise StorageKeyError(
                    "the database is part way through another rekey: finish it with the"
                    " keys it was started with"
                )
            raise StorageKeyError(
                "[storage] encryption_key is not the key this database is encrypted with"
                " (its key check value does not match)"
            )
        if present <= {new.storage_key_id}:
            _set_final_keys(connection, new)
            return False
        connection.execute(delete(storage_keys))
        add_storage_key(connection, new.storage_key_id, KeyRole.ACTIVE)
        add_storage_key(connection, old.storage_key_id, KeyRole.RETIRING)
        return True

    return job


def _rekey_row(old_in_clear: bool) -> Any:
    """One row's new body, key id and dedup key, if it is still as read (under the old key)."""
    still_old = (
        credentials.c.key_id.is_(None)
        if old_in_clear
        else credentials.c.key_id == bindparam("old_key_id")
    )
    return (
        update(credentials)
        .where(credentials.c.id == bindparam("row_id"), still_old)
        .values(
            body=bindparam("new_body"),
            key_id=bindparam("new_key_id"),
            dedup_key=bindparam("new_dedup_key"),
            owner=bindparam("new_owner"),
            witness_type=bindparam("new_witness_type"),
        )
    )


_REKEY_ROW = {True: _rekey_row(True), False: _rekey_row(False)}


def rekey_batch(
    old: Sealer, new: Sealer, digest_of: DigestOf, after_id: int, limit: int
) -> WriteJob[Batch]:
    """Re-seal the next rows after `after_id` that are still under the old key.

    Every row of the batch is opened and checked before any is changed; a row
    that fails a check raises StorageKeyError with nothing written.
    """

    def job(connection: Connection) -> Batch:
        rows = connection.execute(
            select(
                credentials.c.id,
                credentials.c.origin,
                credentials.c.dedup_key,
                credentials.c.body,
                credentials.c.key_id,
            )
            .where(credentials.c.id > after_id)
            .order_by(credentials.c.id)
            .limit(limit)
        ).all()
        changes: list[dict[str, object]] = []
        for row in rows:
            if row.key_id == new.key_id:
                continue
            if row.key_id != old.key_id:
                raise StorageKeyError(
                    f"credential {row.id} is sealed with a key that is neither the old"
                    " nor the new one"
                )
            try:
                body = old.open(row.body, row.origin, row.dedup_key)
            except SealedBodyError:
                raise StorageKeyError(f"credential {row.id} failed its integrity check") from None
            digest = digest_of(body)
            # The digest must give the dedup key the row has: else re-deriving it
            # would break duplicate detection.
            if old.dedup_key(digest) != row.dedup_key:
                raise StorageKeyError(f"credential {row.id}: its body does not give its dedup key")
            dedup_key = new.dedup_key(digest)
            owner, witness_type = described(body) if new.key_id is None else (HIDDEN, HIDDEN)
            changes.append(
                {
                    "row_id": row.id,
                    "old_key_id": old.key_id,
                    "new_body": new.seal(body, row.origin, dedup_key),
                    "new_key_id": new.key_id,
                    "new_dedup_key": dedup_key,
                    "new_owner": owner,
                    "new_witness_type": witness_type,
                }
            )
        if changes:
            connection.execute(_REKEY_ROW[old.key_id is None], changes)
        return Batch(rows[-1].id if rows else after_id, len(rows), len(changes))

    return job


def finish(new: Sealer) -> WriteJob[bool]:
    """Retire the old key if no row uses anything but the new one; False if some still do."""

    def job(connection: Connection) -> bool:
        other = (
            credentials.c.key_id.is_not(None)
            if new.key_id is None
            else (credentials.c.key_id.is_(None) | (credentials.c.key_id != new.key_id))
        )
        if connection.execute(select(credentials.c.id).where(other).limit(1)).first():
            return False
        _set_final_keys(connection, new)
        return True

    return job


def _vacuum_sqlite(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def purge_old_copies(database: Database) -> bool:
    """Rewrite an SQLite file so that no old body survives in its free pages; False elsewhere."""
    if not database.is_sqlite:
        return False
    path = make_url(database.url).database
    if not path:
        return False
    await asyncio.to_thread(_vacuum_sqlite, path)
    return True
