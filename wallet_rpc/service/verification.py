"""What [verification] asks of a credential before it is stored."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

from wallet_rpc.config import VerificationConfig
from wallet_rpc.errors import InvalidParams
from wallet_rpc.mina.signature import precompute_tables, verify_native_credential
from wallet_rpc.service.credential import ValidCredential

PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(0)


def _start_worker(parent_pid: int) -> None:
    # A server killed with SIGKILL cannot stop its workers; they notice and go.
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    precompute_tables()


def signature_pool() -> ProcessPoolExecutor:
    """Worker processes for signature checks, so that the event loop keeps serving.

    Spawned, not forked: the server has threads (the SQLite writer).
    """
    return ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


class CredentialVerifier:
    def __init__(
        self,
        config: VerificationConfig,
        executor: Executor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`executor` runs signature checks (about 1.2 ms each) off the event loop."""
        self._config = config
        self._executor = executor
        self._clock = clock

    async def check(self, credential: ValidCredential) -> bool:
        """Raise InvalidParams for a credential the wallet refuses; else say if it was verified."""
        config = self._config
        if (
            config.reject_expired
            and credential.expires_at_ms is not None
            and credential.expires_at_ms < self._clock() * 1000
        ):
            raise InvalidParams(
                {"field": "credential.credential.data.expiresAt", "reason": "expired"}
            )
        if credential.witness_type == "imported":
            if config.imported == "reject":
                raise InvalidParams(
                    {
                        "field": "credential.witness.type",
                        "reason": "imported credentials are not accepted",
                    }
                )
            return False
        if credential.witness_type != "native":
            return False
        if config.trusted_issuers and credential.issuer not in config.trusted_issuers:
            raise InvalidParams(
                {"field": "credential.witness.issuer", "reason": "issuer is not trusted"}
            )
        if not config.native:
            return False
        if not await self._verify(credential):
            raise InvalidParams(
                {
                    "field": "credential.witness.issuerSignature",
                    "reason": "signature does not verify",
                }
            )
        return True

    async def _verify(self, credential: ValidCredential) -> bool:
        if self._executor is None:
            return verify_native_credential(credential.document)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, verify_native_credential, credential.document
        )
