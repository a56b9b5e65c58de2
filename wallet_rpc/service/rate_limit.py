"""Per-origin request budget over any sliding 60-second window."""

from __future__ import annotations

import time
from collections import deque

from wallet_rpc.errors import RateLimited

WINDOW_SECONDS = 60.0
# Bounds the memory an attacker can make us spend by inventing origins.
MAX_TRACKED_ORIGINS = 10_000


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._calls: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Count one call for key, or raise RateLimited when its window is full."""
        if self._per_minute == 0:
            return
        now = time.monotonic()
        calls = self._calls.get(key)
        if calls is None:
            if len(self._calls) >= MAX_TRACKED_ORIGINS:
                self._forget_idle(now)
            calls = self._calls[key] = deque()
        while calls and now - calls[0] >= WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self._per_minute:
            raise RateLimited()
        calls.append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [
            key
            for key, calls in self._calls.items()
            if not calls or now - calls[-1] >= WINDOW_SECONDS
        ]
        for key in idle:
            del self._calls[key]
        if len(self._calls) >= MAX_TRACKED_ORIGINS:
            # Every tracked origin is active: drop the oldest to stay bounded.
            oldest = min(self._calls, key=lambda key: self._calls[key][-1])
            del self._calls[oldest]
