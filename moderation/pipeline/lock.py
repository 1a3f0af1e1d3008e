"""One `invoke moderate` at a time: a lock file beside the inbox, held for the whole run.

Two runs at once would check, decide and publish the same comments twice over. The lock
is an flock on `<inbox folder>/moderate.lock`: the kernel lets it go when the process
ends, however it ends (kill -9 included), so a crashed run never leaves a stale lock.
The file holds the running process's id, for the message the second run shows.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "moderate.lock"


class AlreadyRunningError(Exception):
    """Another run holds the lock."""

    def __init__(self, path: Path, holder: str) -> None:
        who = f"process {holder}" if holder else "another process"
        super().__init__(
            f"Another `invoke moderate` is running ({who}, lock {path}): "
            "nothing was done; run it again when that one has finished."
        )


def lock_path(inbox: Path) -> Path:
    """The lock of the inbox at `inbox`: runs on one inbox exclude each other."""
    return inbox.parent / LOCK_NAME


@contextmanager
def one_run_at_a_time(inbox: Path) -> Iterator[None]:
    """Hold the moderation lock of `inbox` inside the block; AlreadyRunningError if taken."""
    path = lock_path(inbox)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AlreadyRunningError(path, handle.read().strip()) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
