"""What [verification] asks of a credential before it is stored."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from wallet_rpc.config import VerificationConfig
from wallet_rpc.errors import InvalidParams

if TYPE_CHECKING:
    from wallet_rpc.service.credential import ValidCredential

T = TypeVar("T")


class SignaturePool:
    """Worker processes for signature checks, so that the event loop keeps serving.

    Workers come from a fork server that has loaded wallet_rpc.mina's worker
    and signature modules and nothing else; not forked from the server, which
    has threads (the SQLite writer) and modules a worker does not need.
    `start` launches them in the background; until the first has warmed up,
    checks run in this process.
    """

    def __init__(self, workers: int | None = None) -> None:
        from wallet_rpc.mina import worker

        self._worker = worker
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(list(worker.PRELOAD))
        self._workers = workers or os.cpu_count() or 1
        self._executor = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=context,
            initializer=worker.start,
            initargs=(os.getpid(),),
        )
        self._ready = threading.Event()
        self._starter = threading.Thread(
            target=self._start_workers, name="signature-pool-start", daemon=True
        )

    def start(self) -> None:
        """Launch the workers without waiting for them (once; later calls do nothing)."""
        if self._starter.ident is None:
            self._starter.start()

    def _start_workers(self) -> None:
        # Each submit launches a worker while none is idle; launching the first
        # waits for the fork server, hence this thread.
        try:
            for _ in range(self._workers):
                self._executor.submit(self._worker.ready).add_done_callback(self._answered)
        except RuntimeError:  # shut down before every worker was asked for
            return

    def _answered(self, answer: Future[int]) -> None:
        if not answer.cancelled() and answer.exception() is None:
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Has a worker warmed up (checks go to the workers from now on)?"""
        return self._ready.is_set()

    async def check(self, document: Mapping[str, Any]) -> bool:
        """Does the native credential's issuer signature verify?"""
        if not self._ready.is_set():
            return self._worker.check(document)
        return await self.run(self._worker.check, document)

    async def run(self, function: Callable[..., T], *arguments: Any) -> T:
        """function(*arguments) in a worker (function and arguments picklable)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *arguments)

    def close(self) -> None:
        """Stop the workers (once; later calls do nothing more)."""
        # Workers still being launched first: one launched during the shutdown
        # would find the pool's queues gone.
        if self._starter.is_alive():
            self._starter.join()
        self._executor.shutdown(wait=True, cancel_futures=True)


class CredentialVerifier:
    def __init__(
        self,
        config: VerificationConfig,
        pool: SignaturePool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`pool` runs signature checks (about 1.2 ms each) off the event loop."""
        self._config = config
        self._pool = pool
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
        if self._pool is None:
            from wallet_rpc.mina.signature import verify_native_credential

            return verify_native_credential(credential.document)
        return await self._pool.check(credential.document)
