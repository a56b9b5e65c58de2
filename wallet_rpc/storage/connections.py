"""Connected origins: connecting, disconnecting, and the check every wallet call makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from wallet_rpc.storage.audit import AuditEntry, insert_audit
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sqlite import driver_of
from wallet_rpc.storage.tables import connections
from wallet_rpc.storage.writer import WriteJob

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


def connect_origin(origin: str, account: str, audit: AuditEntry | None = None) -> WriteJob[None]:
    def job(connection: Connection) -> None:
        connection.execute(
            _INSERT_CONNECTION[connection.dialect.name],
            {"origin": origin, "account": account, "connected_at": datetime.now(UTC)},
        )
        if audit is not None:
            insert_audit(connection, [audit])

    return job


def disconnect_origin(origin: str, audit: AuditEntry | None = None) -> WriteJob[None]:
    def job(connection: Connection) -> None:
        connection.execute(delete(connections).where(connections.c.origin == origin))
        if audit is not None:
            insert_audit(connection, [audit])

    return job


async def is_connected(database: Database, origin: str) -> bool:
    def job(connection: Connection) -> bool:
        if connection.dialect.name == "sqlite":
            cursor = driver_of(connection).execute(_IS_CONNECTED_SQLITE, (origin,))
            return cursor.fetchone() is not None
        return connection.execute(_IS_CONNECTED, {"origin": origin}).first() is not None

    return await database.query(job)


@dataclass(frozen=True, slots=True)
class ConnectedOrigin:
    origin: str
    account: str
    connected_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "account": self.account,
            "connected_at": self.connected_at.isoformat(),
        }


async def list_connections(database: Database) -> list[ConnectedOrigin]:
    """Every connected origin, the latest connected first."""

    def job(connection: Connection) -> list[ConnectedOrigin]:
        rows = connection.execute(
            select(connections).order_by(connections.c.connected_at.desc(), connections.c.origin)
        )
        return [ConnectedOrigin(row.origin, row.account, row.connected_at) for row in rows]

    return await database.query(job)
