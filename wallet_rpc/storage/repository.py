"""The queries of each use case: write jobs for the writer, read jobs for `Database.query`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from wallet_rpc.storage.database import Database
from wallet_rpc.storage.tables import connections, credentials
from wallet_rpc.storage.writer import BatchJob, WriteJob


@dataclass(frozen=True, slots=True)
class NewCredential:
    origin: str
    dedup_key: str
    owner: str
    witness_type: str
    verified: bool
    body: str


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
# Several rows in one statement (SQLAlchemy's "insertmanyvalues"); a row that
# conflicts, even with an earlier row of the same statement, is skipped and
# returns nothing, so the caller looks it up.
_INSERT_CREDENTIALS = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(credentials)
    .on_conflict_do_nothing(index_elements=["origin", "dedup_key"])
    .returning(credentials.c.id, credentials.c.origin, credentials.c.dedup_key, credentials.c.body)
    for dialect in (postgresql, sqlite)
}
_INSERT_CONNECTION = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(connections).on_conflict_do_nothing(
        index_elements=["origin"]
    )
    for dialect in (postgresql, sqlite)
}
_IS_CONNECTED = select(connections.c.origin).where(connections.c.origin == bindparam("origin"))
# Every wallet call asks this; on SQLite the driver runs it in ~9 us, SQLAlchemy's
# execution path around it takes ~45 us more (docs/decisions.md).
_IS_CONNECTED_SQLITE = str(_IS_CONNECTED.compile(dialect=sqlite.dialect()))


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StoreCredential(BatchJob[tuple[int, str]]):
    """Insert unless (origin, dedup_key) exists; either way answer (id, body of the entry).

    A group's stores are one multi-row INSERT .. ON CONFLICT DO NOTHING and,
    for the ones that were already there, one SELECT.
    """

    def __init__(self, new: NewCredential) -> None:
        self.new = new

    @classmethod
    def run_batch(
        cls, connection: Connection, jobs: list[StoreCredential]
    ) -> list[tuple[int, str]]:
        now = datetime.now(UTC)
        rows = [
            {
                "origin": job.new.origin,
                "dedup_key": job.new.dedup_key,
                "owner": job.new.owner,
                "witness_type": job.new.witness_type,
                "verified": job.new.verified,
                "stored_at": now,
                "body": job.new.body,
            }
            for job in jobs
        ]
        statement = _INSERT_CREDENTIALS[connection.dialect.name]
        entries: dict[tuple[str, str], tuple[int, str]] = {
            (row.origin, row.dedup_key): (int(row.id), row.body)
            for row in connection.execute(statement, rows)
        }
        missing = {(job.new.origin, job.new.dedup_key) for job in jobs} - entries.keys()
        if missing:
            existing = connection.execute(
                select(
                    credentials.c.id,
                    credentials.c.origin,
                    credentials.c.dedup_key,
                    credentials.c.body,
                ).where(tuple_(credentials.c.origin, credentials.c.dedup_key).in_(missing))
            )
            entries.update(
                {(row.origin, row.dedup_key): (int(row.id), row.body) for row in existing}
            )
        return [entries[(job.new.origin, job.new.dedup_key)] for job in jobs]


def store_credential(new: NewCredential) -> StoreCredential:
    return StoreCredential(new)


def connect_origin(origin: str, account: str) -> WriteJob[None]:
    def job(connection: Connection) -> None:
        connection.execute(
            _INSERT_CONNECTION[connection.dialect.name],
            {"origin": origin, "account": account, "connected_at": datetime.now(UTC)},
        )

    return job


def disconnect_origin(origin: str) -> WriteJob[None]:
    def job(connection: Connection) -> None:
        connection.execute(delete(connections).where(connections.c.origin == origin))

    return job


def delete_credential(credential_id: int) -> WriteJob[bool]:
    def job(connection: Connection) -> bool:
        result = connection.execute(delete(credentials).where(credentials.c.id == credential_id))
        return bool(result.rowcount)

    return job


async def is_connected(database: Database, origin: str) -> bool:
    def job(connection: Connection) -> bool:
        if connection.dialect.name == "sqlite":
            driver = connection.connection.driver_connection
            assert driver is not None
            return driver.execute(_IS_CONNECTED_SQLITE, (origin,)).fetchone() is not None
        return connection.execute(_IS_CONNECTED, {"origin": origin}).first() is not None

    return await database.query(job)


def _stored(row: Any) -> StoredCredential:
    return StoredCredential(
        id=row.id,
        origin=row.origin,
        owner=row.owner,
        witness_type=row.witness_type,
        verified=row.verified,
        stored_at=_utc(row.stored_at),
        body=row.body,
    )


_CREDENTIAL_COLUMNS = (
    credentials.c.id,
    credentials.c.origin,
    credentials.c.owner,
    credentials.c.witness_type,
    credentials.c.verified,
    credentials.c.stored_at,
    credentials.c.body,
)


async def list_credentials(database: Database) -> list[StoredCredential]:
    def job(connection: Connection) -> list[StoredCredential]:
        rows = connection.execute(select(*_CREDENTIAL_COLUMNS).order_by(credentials.c.id))
        return [_stored(row) for row in rows]

    return await database.query(job)


async def get_credential(database: Database, credential_id: int) -> StoredCredential | None:
    def job(connection: Connection) -> StoredCredential | None:
        query = select(*_CREDENTIAL_COLUMNS).where(credentials.c.id == credential_id)
        row = connection.execute(query).first()
        return None if row is None else _stored(row)

    return await database.query(job)


async def count_credentials(database: Database) -> int:
    def job(connection: Connection) -> int:
        return int(connection.execute(select(func.count(credentials.c.id))).scalar_one())

    return await database.query(job)
