"""Per-origin request budgets over any sliding 60-second window, at constant cost and memory.

Each tracked origin keeps the times of its admitted calls within the window
(at most `per_minute` of them), so the limit holds exactly over every window,
not over an approximation. The origins are kept in the order of their latest
admitted call: the first one is the longest idle, so finding one to forget
looks at one entry, whatever the number of origins tracked.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from wallet_rpc.errors import RateLimited

WINDOW_SECONDS = 60.0
# Bounds the memory a client can make us spend by inventing origins.
MAX_TRACKED_ORIGINS = 10_000


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        max_tracked: int = MAX_TRACKED_ORIGINS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_minute = per_minute
        self._max_tracked = max_tracked
        self._clock = clock
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def tracked_origins(self) -> int:
        return len(self._calls)

    def check(self, key: str) -> None:
        """Count one call for key, or raise RateLimited when its window is full."""
        if self._per_minute == 0:
            return
        now = self._clock()
        calls = self._calls.get(key)
        if calls is None:
            self._make_room(now)
            calls = self._calls[key] = deque()
        while calls and now - calls[0] >= WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self._per_minute:
            raise RateLimited()
        calls.append(now)
        self._calls.move_to_end(key)

    def _make_room(self, now: float) -> None:
        if len(self._calls) < self._max_tracked:
            return
        longest_idle = next(iter(self._calls.values()))
        if longest_idle and now - longest_idle[-1] < WINDOW_SECONDS:
            # Every tracked origin was admitted within the window: forgetting
            # one would refill its budget, so a new origin waits for one to idle.
            raise RateLimited()
        self._calls.popitem(last=False)
