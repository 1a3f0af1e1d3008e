"""The intake's mail sender: a background task that queues digests and sends the outbox.

It runs beside the requests, never inside one: a reader's answer waits only for her
comment (and any mail it causes) to be committed, never for a mail server. A request that
queues mail wakes the task (`wake`); otherwise it looks every POLL_SECONDS, which is also
how retries and the next digest come due. Its work runs on a worker thread with its own
inbox connection, so a slow or absent mail server never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread

from moderation import inbox, mail, notify

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0


class MailSender:
    """Start with `start()` inside the event loop; `stop()` before it ends."""

    def __init__(
        self, inbox_path: Path, notifier: notify.Notifier, title_of: Callable[[str], str]
    ) -> None:
        self.inbox_path = inbox_path
        self.notifier = notifier
        self.title_of = title_of
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._connection: sqlite3.Connection | None = None

    def start(self) -> None:
        """Begin sending, if mail is on; say once at start-up when it is not."""
        if self.notifier.smtp is None:
            log.warning("intake: %s", mail.NO_SMTP_MESSAGE)
            return
        if not self.notifier.options.author_email:
            log.warning(
                "intake: no author address (NOTIFY['AUTHOR_EMAIL'] or "
                "BETWEEN_SESSIONS_AUTHOR_EMAIL): waiting comments are not announced by mail"
            )
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="mail-sender")

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            try:
                await anyio.to_thread.run_sync(self._one_pass)
            except Exception:
                log.exception("intake: the mail sender's pass failed; it tries again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=POLL_SECONDS)
            self._wakeup.clear()

    def _one_pass(self) -> None:
        assert self.notifier.smtp is not None
        if self._connection is None:
            self._connection = inbox.connect(self.inbox_path)
        with inbox.transaction(self._connection):
            notify.queue_digest_if_due(self._connection, self.notifier, self.title_of)
        report = mail.deliver_due(self._connection, self.notifier.smtp)
        if report.sent or report.retrying or report.failed:
            log.info(
                "intake: mail sent %d, to retry %d, given up %d%s",
                report.sent,
                report.retrying,
                report.failed,
                f" ({report.errors[-1]})" if report.errors else "",
            )
