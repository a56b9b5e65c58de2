"""The queries of each use case: write jobs for the writer, read jobs for `Database.query`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from wallet_rpc.storage.database import Database
from wallet_rpc.storage.tables import connections, credentials
from wallet_rpc.storage.writer import WriteJob


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
_INSERT_CREDENTIAL = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(credentials)
    .on_conflict_do_nothing(index_elements=["origin", "dedup_key"])
    .returning(credentials.c.id)
    for dialect in (postgresql, sqlite)
}
_EXISTING_CREDENTIAL = select(credentials.c.id, credentials.c.body).where(
    credentials.c.origin == bindparam("origin"), credentials.c.dedup_key == bindparam("dedup_key")
)
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


def store_credential(new: NewCredential) -> WriteJob[tuple[int, str]]:
    """Insert unless (origin, dedup_key) exists; either way answer (id, body of the entry)."""

    def job(connection: Connection) -> tuple[int, str]:
        values = {
            "origin": new.origin,
            "dedup_key": new.dedup_key,
            "owner": new.owner,
            "witness_type": new.witness_type,
            "verified": new.verified,
            "stored_at": datetime.now(UTC),
            "body": new.body,
        }
        statement = _INSERT_CREDENTIAL[connection.dialect.name]
        inserted = connection.execute(statement, values).first()
        if inserted is not None:
            return int(inserted.id), new.body
        existing = connection.execute(
            _EXISTING_CREDENTIAL, {"origin": new.origin, "dedup_key": new.dedup_key}
        ).one()
        return int(existing.id), str(existing.body)

    return job


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
