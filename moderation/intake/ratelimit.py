"""Per-address rate limits for the intake: a sliding window, kept in memory."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request

# Forget idle addresses once this many are tracked, so a scan cannot grow memory forever.
PRUNE_ABOVE = 10_000


class RateLimiter:
    """At most `limit` events per `window` seconds per key (here: a reader's address)."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may act again; 0 if it may act now."""
        events = self._recent(key)
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window - self.clock()))

    def hit(self, key: str) -> None:
        """Count one event for `key`."""
        if len(self._events) > PRUNE_ABOVE:
            self._prune()
        self._events.setdefault(key, deque()).append(self.clock())

    def reserve(self, key: str) -> int:
        """Count one event for `key` now if it may act; else whole seconds until it may.

        Checking and counting in one step, with no await between them, is what keeps
        concurrent requests from all passing the check before any of them is counted.
        """
        wait = self.retry_after(key)
        if not wait:
            self.hit(key)
        return wait

    def refund(self, key: str) -> None:
        """Give back the latest event of `key` (its request failed after `reserve`)."""
        events = self._events.get(key)
        if events:
            events.pop()

    def _recent(self, key: str) -> deque[float]:
        events = self._events.get(key, deque())
        horizon = self.clock() - self.window
        while events and events[0] <= horizon:
            events.popleft()
        return events

    def _prune(self) -> None:
        for key in list(self._events):
            if not self._recent(key):
                del self._events[key]


def client_address(request: Request) -> str:
    """The reader's address, what limits are kept by (uvicorn has already applied trusted
    proxy headers)."""
    return request.client.host if request.client else "unknown"
