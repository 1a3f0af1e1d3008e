"""Uvicorn's HTTP/1.1 protocol with a header timeout, which uvicorn itself lacks.

The protocol is the one uvicorn picks by itself (httptools when installed, as it is here:
a third less CPU per request than h11), with the timeout added.

Uvicorn closes a keep-alive connection that stays idle, but not one that sends half a
request line and then waits: 300 such connections stayed open against `invoke intake`
(issue 12). Here every connection must deliver a request's headers whole within
`header_timeout` seconds of opening, or of its previous answer, or it is closed. The body's
own timeout is the intake's (`moderation.intake.app.read_body`).
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = logging.getLogger(__name__)


class HeaderTimeoutProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """Uvicorn's protocol, closing a connection whose next request's headers are too slow."""

    header_timeout: float = 10.0

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        # One timer a connection: a keep-alive connection's answered requests leave none.
        if self._header_timer is not None:
            self._header_timer.cancel()
        # A new request replaces `cycle`: if it is still the one seen now, none has started.
        waiting_after = self.cycle
        self._header_timer = self.loop.call_later(
            self.header_timeout, self._close_if_no_request, waiting_after
        )

    def _close_if_no_request(self, waiting_after: object) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            log.info("intake: closed a connection whose request headers did not arrive in time")
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class for uvicorn's `http=` with this header timeout."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})
