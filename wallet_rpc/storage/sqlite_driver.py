"""Raw driver access for the few SQLite statements on the hot path.

SQLAlchemy's execution path around a statement costs more than SQLite takes
to run it (see docs/decisions.md, "Writes on SQLite"); these statements go to
the pysqlite connection directly, in the same transaction as the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

# SQLAlchemy's own text form of a DateTime on SQLite; everything stored is UTC.
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def driver_of(connection: Connection) -> sqlite3.Connection:
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def sqlite_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_DATETIME_FORMAT)


class MultiRowInsert:
    """An INSERT of many rows as one statement, `INSERT .. VALUES (..), (..), ..`.

    `executemany` binds and steps once per row, and the driver releases the
    GIL around each step and takes it back after (on a thread, a wait for the
    event loop each time). One statement is one bind and one step.
    """

    # 500 rows of up to 8 columns stay far below SQLite's 32766 variables.
    max_rows = 500

    def __init__(self, head: str, columns: int, tail: str = "") -> None:
        self._head = head
        self._row = "(" + ", ".join(["?"] * columns) + ")"
        self._tail = tail
        self._statements: dict[int, str] = {}

    def statement(self, rows: int) -> str:
        statement = self._statements.get(rows)
        if statement is None:
            placeholders = ", ".join([self._row] * rows)
            statement = self._statements[rows] = "".join((self._head, placeholders, self._tail))
        return statement

    def execute(self, driver: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        """Insert at most `max_rows` rows with one statement."""
        assert 0 < len(rows) <= self.max_rows
        values = [value for row in rows for value in row]
        return driver.execute(self.statement(len(rows)), values)

    def execute_all(self, driver: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        for start in range(0, len(rows), self.max_rows):
            self.execute(driver, rows[start : start + self.max_rows])
