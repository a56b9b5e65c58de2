"""The schema as SQLAlchemy metadata. Alembic migrations create it; nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment stored as UTC and read back aware, on every backend.

    SQLAlchemy's documented recipe for timezone-aware datetimes: SQLite keeps
    no zone and hands back naive values, so every value goes in as UTC and
    comes out marked UTC. A naive value going in is a bug, refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError("a stored moment must carry its time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(255), nullable=False),
    # Same credential, same origin: one row. The key ignores key order and metadata.
    Column("dedup_key", String(64), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("witness_type", String(16), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("stored_at", UtcDateTime(), nullable=False),
    # The answer S exactly as first given, so a duplicate gets it byte for byte.
    Column("body", Text, nullable=False),
    # The storage key the body is sealed with (see storage_keys); NULL: the body is in clear.
    Column("key_id", String(32), nullable=True),
    UniqueConstraint("origin", "dedup_key"),
)

connections = Table(
    "connections",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("connected_at", UtcDateTime(), nullable=False),
)

# Requests waiting for a person's decision in "prompt" mode. They live in the
# database so that a decision made through any replica, or the CLI, reaches the
# process holding the request open.
pending_approvals = Table(
    "pending_approvals",
    metadata,
    # Random, so an id read from a list never names a later request.
    Column("id", String(32), primary_key=True),
    Column("method", String(64), nullable=False),
    Column("origin", String(255), nullable=False),
    # The credential as received (JSON), for store requests; sealed like a stored body.
    Column("credential", Text, nullable=True),
    # The storage key the credential is sealed with; NULL: in clear, or no credential.
    Column("key_id", String(32), nullable=True),
    Column("requested_at", UtcDateTime(), nullable=False),
    # Past this, nobody waits for the row any more (also after a crash).
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("decision", String(16), nullable=True),
    # The origin the person was shown when deciding.
    Column("decided_origin", String(255), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
)

# Every wallet method call: who asked what, and how it ended. Written in the
# transaction of the change it records; never holds credential data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    # The resolved origin; for a refused one, the Origin header as sent (cut to 255).
    Column("origin", String(255), nullable=True),
    Column("method", String(64), nullable=False),
    # The JSON-RPC error code; NULL when the call succeeded.
    Column("code", Integer, nullable=True),
    # The result as JSON, for results that carry no credential data.
    Column("result", Text, nullable=True),
    # No foreign key: the record outlives a deleted credential.
    Column("credential_id", Integer, nullable=True),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_origin_at", "origin", "at"),
)

# The keys credential bodies are sealed with: one row per key (or "plaintext")
# that rows may use. One "active" row in normal operation; during a rekey the
# old one stays, "retiring", until no row uses it.
storage_keys = Table(
    "storage_keys",
    metadata,
    # HKDF of the key: names it without revealing it, and is its check value.
    Column("key_id", String(32), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
)
