"""One thread owns the inbox's write connection; requests hand it jobs and await the commit.

Group commit: while one transaction is being committed, new jobs queue up; the thread then
runs all of them in the next transaction and commits once. Each request is answered only
after the transaction holding its job has committed, so "received" always means "on disk",
and with synchronous=FULL one fsync covers a whole batch instead of one per comment.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from moderation import inbox

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]


class InboxWriter:
    """Runs write jobs on one thread in batched transactions, and read jobs on worker threads."""

    def __init__(self, path: Path, synchronous: str = "FULL", max_batch: int = 256) -> None:
        self.path = path
        self.synchronous = synchronous
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Job, asyncio.Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._readers = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []

    async def write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job` inside a write transaction; return its result once that is committed."""
        self._ensure_started()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((job, future))
        return await future

    async def read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only `job` on a worker thread's own connection (WAL readers never wait)."""
        return await anyio.to_thread.run_sync(self._read, job)

    def close(self) -> None:
        """Finish the queued jobs, then stop the writer thread and close the connections."""
        with self._start_lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
            for connection in self._reader_connections:
                connection.close()
            self._reader_connections.clear()
            self._readers = threading.local()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    connection = self._connect()
                    self._thread = threading.Thread(
                        target=self._run, args=(connection,), name="inbox-writer", daemon=True
                    )
                    self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        connection = inbox.connect(self.path)
        # FULL: a commit survives power loss, not just a crash of this process (see README).
        connection.execute(f"PRAGMA synchronous={self.synchronous}")
        return connection

    def _read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        connection = getattr(self._readers, "connection", None)
        if connection is None:
            connection = inbox.connect(self.path)
            self._readers.connection = connection
            self._reader_connections.append(connection)
        return job(connection)

    def _run(self, connection: sqlite3.Connection) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit(connection, batch)
        connection.close()

    def _commit(
        self, connection: sqlite3.Connection, batch: list[tuple[Job, asyncio.Future]]
    ) -> None:
        try:
            with inbox.transaction(connection):
                results = [job(connection) for job, _ in batch]
        except Exception as error:
            if connection.in_transaction:  # a failed COMMIT leaves it open
                connection.execute("ROLLBACK")
            if len(batch) == 1:
                settle(batch[0][1], error=error)
                return
            # One bad job must not sink the others: give each its own transaction.
            for item in batch:
                self._commit(connection, [item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            settle(future, result=result)


def settle(future: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
    """Hand a job's outcome to the event loop that is waiting for it."""

    def resolve() -> None:
        # The reader may have gone away; the row is committed all the same.
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        future.get_loop().call_soon_threadsafe(resolve)
    except RuntimeError:
        log.warning("intake: a request's event loop closed before its commit was reported")
