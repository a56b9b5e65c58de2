"""Stored credentials: the store (one statement per group), listing, reading and deleting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql

from wallet_rpc.storage.audit import AuditEntry, insert_audit
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import HIDDEN, PLAINTEXT, Sealer, described, unsealed
from wallet_rpc.storage.sqlite import MultiRowInsert, driver_of, sqlite_datetime
from wallet_rpc.storage.tables import credentials
from wallet_rpc.storage.writer import BatchJob, WriteJob


@dataclass(frozen=True, slots=True)
class NewCredential:
    origin: str
    # The credential's digest (hex sha256); the sealer makes the stored dedup key of it.
    dedup_key: str
    owner: str
    witness_type: str
    verified: bool
    body: str


class StoreResult(NamedTuple):
    id: int
    # The entry's body in clear: the new one, or the one first stored for a duplicate.
    body: str
    created: bool


# What a store's audit row says of its result (the credential itself never goes there).
STORED_RESULT = '"stored"'
DUPLICATE_RESULT = '"duplicate"'


@dataclass(frozen=True, slots=True)
class StoredCredential:
    id: int
    origin: str
    owner: str
    witness_type: str
    verified: bool
    stored_at: datetime
    body: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "origin": self.origin,
            "stored_at": self.stored_at.isoformat(),
            "verified": self.verified,
            "witness_type": self.witness_type,
            "credential": json.loads(self.body),
        }


# Statements on the hot path are built once: building and caching a statement
# per call costs more than SQLite takes to run it.
# A group's stores are one statement with a row each (on PostgreSQL, SQLAlchemy's
# "insertmanyvalues"); a row that conflicts, even with an earlier row of the same
# statement, is skipped and returns nothing, so the caller looks it up.
_INSERT_CREDENTIALS_POSTGRES = (
    postgresql.insert(credentials)
    .on_conflict_do_nothing(index_elements=["origin", "dedup_key"])
    .returning(credentials.c.id, credentials.c.origin, credentials.c.dedup_key)
)
# On SQLite the driver runs the INSERT directly, as it does the audit rows, and
# without RETURNING: each returned row would be a step of its own. The writer
# holds the write lock, so the rows the INSERT took are the ones with ids past
# the largest id before it.
_INSERT_SQLITE = MultiRowInsert(
    "INSERT INTO credentials"
    " (origin, dedup_key, owner, witness_type, verified, stored_at, body, key_id) VALUES ",
    8,
    " ON CONFLICT (origin, dedup_key) DO NOTHING",
)
_SQLITE_LAST_ID = "SELECT max(id) FROM credentials"
_SQLITE_INSERTED_AFTER = "SELECT id, origin, dedup_key FROM credentials WHERE id > ?"


def _insert_sqlite(
    connection: Connection,
    jobs: list[StoreCredential],
    stored_at: str,
    in_clear: bool,
    key_id: str | None,
) -> dict[tuple[str, str], int]:
    driver = driver_of(connection)
    last_id_before = driver.execute(_SQLITE_LAST_ID).fetchone()[0] or 0
    cursor = _INSERT_SQLITE.execute(
        driver,
        [
            (
                job.new.origin,
                job.dedup_key,
                job.new.owner if in_clear else HIDDEN,
                job.new.witness_type if in_clear else HIDDEN,
                job.new.verified,
                stored_at,
                job.stored_body,
                key_id,
            )
            for job in jobs
        ],
    )
    if cursor.rowcount == 0:
        return {}
    if cursor.rowcount == len(jobs) and cursor.lastrowid == last_id_before + len(jobs):
        # Every row went in, taking the ids after the largest one by one.
        return {
            (job.new.origin, job.dedup_key): last_id_before + 1 + n for n, job in enumerate(jobs)
        }
    # Some rows were duplicates.
    rows = driver.execute(_SQLITE_INSERTED_AFTER, (last_id_before,))
    return {(origin, dedup_key): id_ for id_, origin, dedup_key in rows}


# By origin, then keys: SQLite answers `(origin, dedup_key) IN (...)` by scanning
# the whole index, this by searching it.
_EXISTING = select(
    credentials.c.id, credentials.c.dedup_key, credentials.c.body, credentials.c.key_id
).where(
    credentials.c.origin == bindparam("origin"),
    credentials.c.dedup_key.in_(bindparam("dedup_keys", expanding=True)),
)


def _by_origin(keys: set[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for origin, dedup_key in keys:
        grouped.setdefault(origin, []).append(dedup_key)
    return grouped


class StoreCredential(BatchJob[StoreResult]):
    """Insert unless (origin, dedup_key) exists; either way answer the entry's id and body.

    A group's stores are one multi-row INSERT .. ON CONFLICT DO NOTHING and,
    for the ones that were already there, one SELECT. Each store's audit row
    (when given) goes into the same transaction, with the entry's id and
    whether this store created it.
    """

    def __init__(
        self, new: NewCredential, sealer: Sealer = PLAINTEXT, audit: AuditEntry | None = None
    ) -> None:
        self.new = new
        self.sealer = sealer
        self.audit = audit
        self.dedup_key = sealer.dedup_key(new.dedup_key)
        self.stored_body = sealer.seal(new.body, new.origin, self.dedup_key)

    @classmethod
    def run_batch(cls, connection: Connection, jobs: list[StoreCredential]) -> list[StoreResult]:
        now = datetime.now(UTC)
        # Encrypted bodies leave no credential field in clear, these two included.
        in_clear = jobs[0].sealer.key_id is None
        key_id = jobs[0].sealer.key_id
        inserted: dict[tuple[str, str], int]
        if connection.dialect.name == "sqlite":
            inserted = _insert_sqlite(connection, jobs, sqlite_datetime(now), in_clear, key_id)
        else:
            rows = [
                {
                    "origin": job.new.origin,
                    "dedup_key": job.dedup_key,
                    "owner": job.new.owner if in_clear else HIDDEN,
                    "witness_type": job.new.witness_type if in_clear else HIDDEN,
                    "verified": job.new.verified,
                    "stored_at": now,
                    "body": job.stored_body,
                    "key_id": key_id,
                }
                for job in jobs
            ]
            inserted = {
                (row.origin, row.dedup_key): int(row.id)
                for row in connection.execute(_INSERT_CREDENTIALS_POSTGRES, rows)
            }
        existing: dict[tuple[str, str], tuple[int, str]] = {}
        missing = {(job.new.origin, job.dedup_key) for job in jobs} - inserted.keys()
        if missing:
            sealer = jobs[0].sealer
            for origin, dedup_keys in _by_origin(missing).items():
                found = connection.execute(_EXISTING, {"origin": origin, "dedup_keys": dedup_keys})
                existing.update(
                    (
                        (origin, row.dedup_key),
                        (
                            int(row.id),
                            unsealed(sealer, row.body, row.key_id, origin, row.dedup_key),
                        ),
                    )
                    for row in found
                )
        results: list[StoreResult] = []
        # The first job of a key that the INSERT took created the entry; later ones
        # in the same batch are its duplicates and answer its body.
        first_bodies: dict[tuple[str, str], str] = {}
        for job in jobs:
            key = (job.new.origin, job.dedup_key)
            if key in existing:
                results.append(StoreResult(*existing[key], created=False))
            elif key in first_bodies:
                results.append(StoreResult(inserted[key], first_bodies[key], created=False))
            else:
                first_bodies[key] = job.new.body
                results.append(StoreResult(inserted[key], job.new.body, created=True))
        insert_audit(
            connection,
            [
                job.audit.with_credential(
                    result.id, STORED_RESULT if result.created else DUPLICATE_RESULT
                )
                for job, result in zip(jobs, results, strict=True)
                if job.audit is not None
            ],
        )
        return results


def store_credential(
    new: NewCredential, sealer: Sealer = PLAINTEXT, audit: AuditEntry | None = None
) -> StoreCredential:
    return StoreCredential(new, sealer, audit)


def delete_credential(credential_id: int) -> WriteJob[bool]:
    def job(connection: Connection) -> bool:
        result = connection.execute(delete(credentials).where(credentials.c.id == credential_id))
        return bool(result.rowcount)

    return job


def _stored(row: Any, sealer: Sealer) -> StoredCredential:
    body = unsealed(sealer, row.body, row.key_id, row.origin, row.dedup_key)
    owner, witness_type = (row.owner, row.witness_type) if row.key_id is None else described(body)
    return StoredCredential(
        id=row.id,
        origin=row.origin,
        owner=owner,
        witness_type=witness_type,
        verified=row.verified,
        stored_at=row.stored_at,
        body=body,
    )


_CREDENTIAL_COLUMNS = (
    credentials.c.id,
    credentials.c.origin,
    credentials.c.owner,
    credentials.c.witness_type,
    credentials.c.verified,
    credentials.c.stored_at,
    credentials.c.body,
    credentials.c.key_id,
    credentials.c.dedup_key,
)


async def list_credentials(
    database: Database, sealer: Sealer = PLAINTEXT
) -> list[StoredCredential]:
    def job(connection: Connection) -> list[StoredCredential]:
        rows = connection.execute(select(*_CREDENTIAL_COLUMNS).order_by(credentials.c.id))
        return [_stored(row, sealer) for row in rows]

    return await database.query(job)


async def get_credential(
    database: Database, credential_id: int, sealer: Sealer = PLAINTEXT
) -> StoredCredential | None:
    def job(connection: Connection) -> StoredCredential | None:
        query = select(*_CREDENTIAL_COLUMNS).where(credentials.c.id == credential_id)
        row = connection.execute(query).first()
        return None if row is None else _stored(row, sealer)

    return await database.query(job)


async def count_credentials(database: Database) -> int:
    def job(connection: Connection) -> int:
        return int(connection.execute(select(func.count(credentials.c.id))).scalar_one())

    return await database.query(job)
