"""Encryption at rest of credential bodies, and the key check at start-up.

With `[storage] encryption_key` set, a body is stored as base64url of
nonce (12 bytes) || AES-256-GCM ciphertext and tag, under a key derived from
the configured one with HKDF-SHA256; the associated data binds it to its
row's origin and dedup key, so a body moved to another row does not open.
The dedup key is then an HMAC-SHA256 (under another derived key) of the
credential's digest: equal credentials still meet, and the database alone no
longer confirms a guess of a credential's content.

Each row names the key it is sealed with (`credentials.key_id`, NULL for a
body in clear). `storage_keys` lists the keys rows may use; the key id is
itself derived from the key, so it doubles as the key check value: a
configured key whose id is not there is the wrong key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, select

from wallet_rpc.storage.database import Database
from wallet_rpc.storage.tables import credentials, storage_keys

PLAINTEXT_KEY_ID = "plaintext"
# What the owner and witness_type columns hold when bodies are encrypted: they
# are credential fields too, read from the body instead.
HIDDEN = ""
_NONCE_BYTES = 12
_SALT = b"wallet-rpc storage v1"


class KeyRole(StrEnum):
    ACTIVE = "active"
    RETIRING = "retiring"


class StorageKeyError(Exception):
    """The configured key cannot serve this database; the message is one line for the operator."""


class SealedBodyError(Exception):
    """A stored body that does not open under the key it names (tampered with, or moved)."""


# cryptography is imported where a key is used: a store without one never loads it.


def _derive(key: bytes, purpose: bytes, length: int = 32) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose).derive(key)


def _associated_data(origin: str, dedup_key: str) -> bytes:
    return f"{origin}\n{dedup_key}".encode()


class Sealer:
    """How bodies are stored: this base class stores them in clear."""

    key_id: str | None = None

    def dedup_key(self, digest_hex: str) -> str:
        return digest_hex

    def seal(self, body: str, origin: str, dedup_key: str) -> str:
        return body

    def open(self, stored: str, origin: str, dedup_key: str) -> str:
        return stored

    @property
    def storage_key_id(self) -> str:
        """The id under which `storage_keys` lists this way of storing."""
        return PLAINTEXT_KEY_ID


PLAINTEXT = Sealer()


class AesGcmSealer(Sealer):
    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.key_id = _derive(key, b"key id", 16).hex()
        self._aead = AESGCM(_derive(key, b"body encryption"))
        self._dedup_hmac = hmac.new(_derive(key, b"dedup key"), digestmod=hashlib.sha256)

    def dedup_key(self, digest_hex: str) -> str:
        keyed = self._dedup_hmac.copy()
        keyed.update(bytes.fromhex(digest_hex))
        return keyed.hexdigest()

    def seal(self, body: str, origin: str, dedup_key: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, body.encode("utf-8"), _associated_data(origin, dedup_key)
        )
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, origin: str, dedup_key: str) -> str:
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.urlsafe_b64decode(stored)
            plain = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated_data(origin, dedup_key)
            )
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedBodyError("a stored credential body failed its integrity check") from None
        return plain.decode("utf-8")

    @property
    def storage_key_id(self) -> str:
        assert self.key_id is not None
        return self.key_id


def described(body: str) -> tuple[str, str]:
    """The owner (B62) and witness type of a stored credential S, from S itself."""
    document = json.loads(body)
    credential = document["credential"]
    # The plain form {owner, data}, or the o1js Struct form {_type, properties, value}.
    owner = credential["owner"] if "owner" in credential else credential["value"]["owner"]
    return str(owner["value"]), str(document["witness"]["type"])


def sealer_for(key: bytes | None) -> Sealer:
    return PLAINTEXT if key is None else AesGcmSealer(key)


@dataclass(frozen=True, slots=True)
class KeyRow:
    key_id: str
    role: KeyRole


def read_storage_keys(connection: Connection) -> list[KeyRow]:
    rows = connection.execute(select(storage_keys.c.key_id, storage_keys.c.role))
    return [KeyRow(row.key_id, KeyRole(row.role)) for row in rows]


def add_storage_key(connection: Connection, key_id: str, role: KeyRole) -> None:
    connection.execute(
        storage_keys.insert().values(key_id=key_id, role=role.value, added_at=datetime.now(UTC))
    )


def check_key_rows(rows: list[KeyRow], sealer: Sealer, has_credentials: bool) -> bool:
    """Whether the configured way of storing fits the database; True: register it first.

    Raises StorageKeyError with one line saying what is wrong and what to do.
    """
    if len(rows) > 1:
        raise StorageKeyError(
            "the database is part way through a rekey: run `wallet-rpc rekey` again"
            " with the same keys to finish it"
        )
    wanted = sealer.storage_key_id
    if not rows:
        # Never encrypted: bodies are in clear, if there are any.
        if sealer.key_id is None or not has_credentials:
            return sealer.key_id is not None
        raise StorageKeyError(
            "the database holds credentials stored in clear: run `wallet-rpc rekey` to"
            " encrypt them under [storage] encryption_key"
        )
    present = rows[0].key_id
    if present == wanted:
        return False
    if sealer.key_id is None:
        raise StorageKeyError(
            "the database holds encrypted credentials: set [storage] encryption_key"
            " (or WALLET_RPC_ENCRYPTION_KEY)"
        )
    if present == PLAINTEXT_KEY_ID:
        raise StorageKeyError(
            "the database holds credentials stored in clear: run `wallet-rpc rekey` to"
            " encrypt them under [storage] encryption_key"
        )
    raise StorageKeyError(
        "[storage] encryption_key is not the key this database is encrypted with"
        " (its key check value does not match)"
    )


def _has_credentials(connection: Connection) -> bool:
    return connection.execute(select(credentials.c.id).limit(1)).first() is not None


def _check_and_register(connection: Connection, sealer: Sealer) -> None:
    if check_key_rows(read_storage_keys(connection), sealer, _has_credentials(connection)):
        add_storage_key(connection, sealer.storage_key_id, KeyRole.ACTIVE)


async def check_storage_key(database: Database, sealer: Sealer, *, register: bool = True) -> None:
    """Refuse a key (or its absence) that does not fit the stored bodies; register a first key.

    With `register`, runs in one write transaction (the database must be
    open), so that replicas starting together on an empty database agree on
    the key; without, it only checks.
    """
    if register:
        await database.write(lambda connection: _check_and_register(connection, sealer))
        return

    def check(connection: Connection) -> None:
        check_key_rows(read_storage_keys(connection), sealer, _has_credentials(connection))

    await database.query(check)


def unsealed(sealer: Sealer, stored: str, key_id: str | None, origin: str, dedup_key: str) -> str:
    """A stored body in clear; refuses a row sealed with some other key."""
    if key_id != sealer.key_id:
        raise SealedBodyError("a stored credential is sealed otherwise than the configuration says")
    return sealer.open(stored, origin, dedup_key)
