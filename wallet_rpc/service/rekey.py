"""`wallet-rpc rekey`: every credential body re-sealed under a new key (or in clear).

Safe to kill at any moment and to run again with the same keys: see
wallet_rpc.storage.rekey for how batches and the key table make it so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wallet_rpc.service.credential import stored_dedup_digest
from wallet_rpc.storage import rekey as steps
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import Sealer

DEFAULT_BATCH_SIZE = 200
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RekeyReport:
    rekeyed: int
    purged: bool


async def rekey(
    database: Database,
    old: Sealer,
    new: Sealer,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> RekeyReport:
    """Re-seal every row still under `old`; the database must be open.

    Raises StorageKeyError when the keys do not fit the database.
    """
    if not await database.write(steps.begin(old, new)):
        return RekeyReport(0, purged=False)
    rekeyed = 0
    while True:
        after_id = 0
        while True:
            batch = await database.write(
                steps.rekey_batch(old, new, stored_dedup_digest, after_id, batch_size)
            )
            if batch.rows_seen == 0:
                break
            after_id = batch.last_id
            rekeyed += batch.rows_rekeyed
            if progress is not None and batch.rows_rekeyed:
                progress(rekeyed)
        # Rows added meanwhile (by a server that should have been stopped) get another pass.
        if await database.write(steps.finish(new)):
            break
    return RekeyReport(rekeyed, purged=await steps.purge_old_copies(database))
