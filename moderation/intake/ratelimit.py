"""Per-address rate limits for the intake: sliding windows, checked in memory and kept in
the inbox.

A limit is checked and counted in memory, before anything is awaited (`reserve`), so that
concurrent requests cannot all pass. What it counted is written into the inbox in the same
transaction as the thing it counts (`remember`: the comment, the like, the wrong admin
token), so a request that failed leaves no trace, and a restarted intake starts from the
events still inside their windows (`load`) instead of from nothing. Keys are hashed before
they are kept anywhere: the inbox learns no address from here.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request

from moderation import inbox

# Forget idle addresses once this many are tracked, so a scan cannot grow memory forever.
PRUNE_ABOVE = 10_000


def key_digest(key: str) -> str:
    """What a limit keeps of a key: a hash, the same in memory and in the inbox."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class RateLimiter:
    """At most `limit` events per `window` seconds per key (a reader's address, a comment).

    `kind` names the limit in the inbox. The clock is wall time, not monotonic, because the
    events outlive the process.
    """

    def __init__(
        self, kind: str, limit: int, window: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.kind = kind
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def load(self, connection: sqlite3.Connection) -> None:
        """Start from the inbox's events still inside the window, forgetting the older ones
        (inside the caller's write transaction)."""
        self.forget_expired(connection)
        horizon = self.clock() - self.window
        for digest, at in inbox.rate_events_since(connection, self.kind, horizon):
            self._events.setdefault(digest, deque()).append(at)

    def forget_expired(self, connection: sqlite3.Connection) -> int:
        """Delete the inbox's events that are out of the window; returns how many."""
        return inbox.forget_rate_events(connection, self.kind, self.clock() - self.window)

    def remember(self, connection: sqlite3.Connection, key: str) -> None:
        """Write `key`'s latest event into the inbox, inside the caller's transaction."""
        inbox.record_rate_event(connection, self.kind, key_digest(key), self.clock())

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may act again; 0 if it may act now."""
        return self._retry_after(key_digest(key))

    def hit(self, key: str) -> None:
        """Count one event for `key`."""
        self._hit(key_digest(key))

    def reserve(self, key: str) -> int:
        """Count one event for `key` now if it may act; else whole seconds until it may.

        Checking and counting in one step, with no await between them, is what keeps
        concurrent requests from all passing the check before any of them is counted.
        """
        digest = key_digest(key)
        wait = self._retry_after(digest)
        if not wait:
            self._hit(digest)
        return wait

    def refund(self, key: str) -> None:
        """Give back the latest event of `key` (its request failed after `reserve`)."""
        events = self._events.get(key_digest(key))
        if events:
            events.pop()

    def _retry_after(self, digest: str) -> int:
        events = self._recent(digest)
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window - self.clock()))

    def _hit(self, digest: str) -> None:
        if len(self._events) > PRUNE_ABOVE:
            self._prune()
        self._events.setdefault(digest, deque()).append(self.clock())

    def _recent(self, digest: str) -> deque[float]:
        events = self._events.get(digest, deque())
        horizon = self.clock() - self.window
        while events and events[0] <= horizon:
            events.popleft()
        return events

    def _prune(self) -> None:
        for digest in list(self._events):
            if not self._recent(digest):
                del self._events[digest]


def client_address(request: Request) -> str:
    """The reader's address, what limits are kept by (uvicorn has already applied trusted
    proxy headers)."""
    return request.client.host if request.client else "unknown"
