"""Storage faults: what the disk or the database server did, told apart from our own bugs.

Everything the storage raises passes through `storage_fault` once, where the
writer or a read catches it. A fault (disk full, read-only, locked, the file
gone, the server unreachable) becomes `StorageUnavailable` (-32001) with a
reason in our words; anything else is a bug and stays what it was (-32603).
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError

from wallet_rpc.errors import StorageUnavailable

DISK_FULL = "the disk holding the database is full"
READ_ONLY = "the database is read-only"
LOCKED = "the database is locked by another process"
FILE_GONE = "the database file is no longer at its path"
FILE_REPLACED = "the file at the database's path is not the one the server opened"
IO_ERROR = "the disk failed to read or write the database"
DAMAGED = "the database file is damaged"
UNREACHABLE = "the database server cannot be reached"
SERVER_BUSY = "the database server refuses more work for now"

# By SQLite's primary result code.
_SQLITE = {
    sqlite3.SQLITE_FULL: DISK_FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_PERM: READ_ONLY,
    sqlite3.SQLITE_BUSY: LOCKED,
    sqlite3.SQLITE_LOCKED: LOCKED,
    sqlite3.SQLITE_CANTOPEN: FILE_GONE,
    sqlite3.SQLITE_IOERR: IO_ERROR,
    sqlite3.SQLITE_CORRUPT: DAMAGED,
    sqlite3.SQLITE_NOTADB: DAMAGED,
}
# By SQLSTATE (PostgreSQL), exact codes first, then their class.
_SQLSTATE = {
    "53100": DISK_FULL,
    "25006": READ_ONLY,
    "55P03": LOCKED,
    "57P01": UNREACHABLE,  # admin shutdown: a restart or failover
    "57P02": UNREACHABLE,
    "57P03": UNREACHABLE,  # cannot connect now: starting up
    "58030": IO_ERROR,
}
_SQLSTATE_CLASS = {"08": UNREACHABLE, "53": SERVER_BUSY}
# By errno, for what the operating system said directly.
_ERRNO = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY,
    errno.EACCES: READ_ONLY,
    errno.EPERM: READ_ONLY,
    errno.EIO: IO_ERROR,
    errno.ENOENT: FILE_GONE,
}


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend((getattr(current, "orig", None), current.__cause__, current.__context__))


def _reason(error: BaseException) -> str | None:
    if isinstance(error, StorageUnavailable):
        return error.reason
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return None if code is None else _SQLITE.get(code & 0xFF)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _SQLSTATE.get(sqlstate) or _SQLSTATE_CLASS.get(sqlstate[:2])
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return UNREACHABLE
    if isinstance(error, ConnectionError | TimeoutError):
        return UNREACHABLE
    if isinstance(error, OSError):
        return _ERRNO.get(error.errno or 0, UNREACHABLE)
    return None


def storage_fault(error: BaseException) -> StorageUnavailable | None:
    """The storage fault behind `error` (or in its causes), or None: then it is a bug."""
    for cause in _causes(error):
        reason = _reason(cause)
        if reason is not None:
            return cause if isinstance(cause, StorageUnavailable) else StorageUnavailable(reason)
    return None
