"""PostgreSQL set-up: one engine for migrations and the writer, one for reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

CONNECT_TIMEOUT_SECONDS = 10.0
# Connections per process: reads, and the writer's (one group at a time). No
# overflow: a burst waits a moment for a pooled connection rather than opening
# and closing one per request, whose TLS and SCRAM handshakes cost more than the
# query. Replicas multiply these; together they must stay under the server's
# max_connections (100 by default).
READ_POOL_SIZE = 10
WRITE_POOL_SIZE = 2
POOL_TIMEOUT_SECONDS = 30.0


def _engine(
    url: str, pool_size: int, *, pre_ping: bool, isolation_level: str | None = None
) -> AsyncEngine:
    # Imported here: the async extension loads the SQLAlchemy ORM, which SQLite never needs.
    from sqlalchemy.ext.asyncio import create_async_engine

    options: dict[str, Any] = (
        {} if isolation_level is None else {"isolation_level": isolation_level}
    )
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_pre_ping=pre_ping,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "server_settings": {"application_name": "wallet-rpc"},
        },
        **options,
    )


def writer_engine(url: str) -> AsyncEngine:
    """Migrations and the writer: transactions, and a connection checked (pre-ping)
    before each group, so that a write is never the first to find a connection
    the server dropped (restart, failover)."""
    return _engine(url, WRITE_POOL_SIZE, pre_ping=True)


def reader_engine(url: str) -> AsyncEngine:
    """Reads: autocommit (no BEGIN and ROLLBACK round trips around each one) and no
    pre-ping, which would double their cost; a read that finds its connection
    dropped is run again (see Database.query)."""
    return _engine(url, READ_POOL_SIZE, pre_ping=False, isolation_level="AUTOCOMMIT")
