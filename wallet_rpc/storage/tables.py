"""The schema as SQLAlchemy metadata. Alembic migrations create it; nothing else does."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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
    Column("stored_at", DateTime(timezone=True), nullable=False),
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
    Column("connected_at", DateTime(timezone=True), nullable=False),
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
    Column("requested_at", DateTime(timezone=True), nullable=False),
    # Past this, nobody waits for the row any more (also after a crash).
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decision", String(16), nullable=True),
    # The origin the person was shown when deciding.
    Column("decided_origin", String(255), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
)

# Every wallet method call: who asked what, and how it ended. Written in the
# transaction of the change it records; never holds credential data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
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
    Column("added_at", DateTime(timezone=True), nullable=False),
)
