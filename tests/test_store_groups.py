"""One group of stores through the real writer: each store gets its own entry's id and body."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy import Connection, select

from wallet_rpc.storage.credentials import NewCredential, StoreResult, store_credential
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.tables import credentials

ORIGIN = "http://localhost:5173"


def new(key: str, version: int = 1) -> NewCredential:
    """A credential whose dedup key is `key`'s; `version` varies its body (as metadata would)."""
    return NewCredential(
        origin=ORIGIN,
        dedup_key=hashlib.sha256(key.encode()).hexdigest(),
        owner="B62q-owner",
        witness_type="unsigned",
        verified=False,
        body=f'{{"key":"{key}","version":{version}}}',
    )


def bodies_by_id(connection: Connection) -> dict[int, str]:
    return {
        row.id: row.body for row in connection.execute(select(credentials.c.id, credentials.c.body))
    }


async def store_together(database: Database, group: list[NewCredential]) -> list[StoreResult]:
    # Submitted in one go, they wait in the writer's queue together and commit as one group.
    return list(await asyncio.gather(*(database.write(store_credential(one)) for one in group)))


async def test_ids_and_bodies_of_new_and_duplicate_stores_in_one_group(database_url: str) -> None:
    database = Database(database_url)
    await database.migrate()
    await database.open()
    try:
        (earlier,) = await store_together(database, [new("c")])
        # All new: the INSERT takes every row.
        fresh = await store_together(database, [new("e"), new("f"), new("g")])
        # Mixed: new ones, a duplicate inside the group, two of earlier entries (the
        # very last one among them).
        mixed = await store_together(
            database,
            [
                new("a"),
                new("b"),
                new("a", version=2),
                new("c", version=2),
                new("g", version=2),
                new("d"),
            ],
        )
        stored = await database.query(bodies_by_id)
    finally:
        await database.close()

    assert [result.created for result in fresh] == [True, True, True]
    assert [result.created for result in mixed] == [True, True, False, False, False, True]
    assert len(stored) == 7
    keys = ["e", "f", "g", "a", "b", "a", "c", "g", "d"]
    for result, expected in zip(fresh + mixed, keys, strict=True):
        first_body = new(expected).body
        assert result.body == first_body
        assert stored[result.id] == first_body
    assert mixed[3].id == earlier.id
    assert mixed[4].id == fresh[2].id
    assert mixed[2].id == mixed[0].id
