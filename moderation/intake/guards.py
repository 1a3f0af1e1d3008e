"""The intake's defences against a hostile reader that are not about one field's value:
where a state-changing request comes from, and how much may wait in the inbox at once.

- `Origins`: the origins the intake knows as its own, all from configuration (SITEURL,
  COMMENT_INTAKE's ALLOWED_ORIGIN and PUBLIC_URL, the port `invoke serve` listens on), never
  from the request's Host header. A POST whose Origin (or, lacking one, Referer) is
  another origin is refused: a page elsewhere cannot post comments or likes in a reader's
  name.
- `WaitingCap`: a global cap on comments waiting in the inbox, so that many addresses
  together cannot fill the disk faster than the author can read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request

from moderation.intake.forms import Refusal
from moderation.settings import ProjectSettings

log = logging.getLogger(__name__)

# How often the cap re-counts the inbox: `invoke moderate` empties it between counts.
RECOUNT_SECONDS = 1.0
# Past the cap, when to try again: about when the author may have run `invoke moderate`.
RETRY_AFTER_SECONDS = 600


def origin_of(url: str) -> str | None:
    """The origin (scheme://host[:port], lower-case) of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


class Origins:
    """The intake's own origins, and the links it builds from them."""

    def __init__(self, settings: ProjectSettings, port: int | None = None) -> None:
        # Under `invoke serve` the site and the intake share 127.0.0.1:port.
        local = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"] if port else []
        options = settings.intake
        configured = [options.public_url, settings.site_url, options.allowed_origin, *local]
        self.allowed = frozenset(filter(None, map(origin_of, filter(None, configured))))
        self.site = (origin_of(settings.site_url) and settings.site_url) or (local[:1] or [""])[0]
        public = options.public_url.rstrip("/") if options.public_url else None
        self.intake = public or origin_of(settings.site_url) or (local[:1] or [""])[0]

    def check(self, request: Request) -> None:
        """Refuse (403) a state-changing request sent from a page of another origin.

        A request with neither header (a script, curl) is let through: a browser always
        sends Origin on a cross-site POST, which is the attack this stops.
        """
        sent = request.headers.get("origin") or request.headers.get("referer")
        if sent is None:
            return
        origin = origin_of(sent)
        if origin is None or origin not in self.allowed:
            raise Refusal(403, "This form was sent from another website; nothing was saved.")


class WaitingCap:
    """At most `limit` comments waiting in the inbox (pending or held).

    The count is read from the inbox every RECOUNT_SECONDS and kept up to date in
    between by the comments admitted since; a request admitted while a count runs is
    counted with it too, so the cap errs on the side of refusing.
    """

    def __init__(
        self,
        limit: int,
        count_waiting: Callable[[], Awaitable[int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.count_waiting = count_waiting
        self.clock = clock
        self._waiting = 0
        self._counted_at: float | None = None
        self._counting: asyncio.Future[None] | None = None

    async def admit(self) -> None:
        """Count one more waiting comment, or refuse (503 with Retry-After) past the cap.

        Call `release` if the comment is not stored after all.
        """
        now = self.clock()
        if self._counting is None and (
            self._counted_at is None or now - self._counted_at >= RECOUNT_SECONDS
        ):
            self._counting = asyncio.ensure_future(self._recount(now))
        if self._counted_at is None and self._counting is not None:
            # No count yet: the first requests wait for it rather than guess.
            await asyncio.shield(self._counting)
        if self._waiting >= self.limit:
            log.warning("intake: %d comments wait in the inbox (the cap): refused", self.limit)
            raise Refusal(
                503,
                "Too many comments are waiting for moderation; please try again later.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._waiting += 1

    def release(self) -> None:
        """Give back an admission whose comment was not stored."""
        self._waiting -= 1

    async def _recount(self, now: float) -> None:
        admitted_before = self._waiting
        try:
            counted = await self.count_waiting()
        finally:
            self._counting = None
        # Those admitted while counting may or may not be in the count: keep them.
        self._waiting = counted + (self._waiting - admitted_before)
        self._counted_at = now
