"""The admin API: what `invoke moderate --inbox URL` on the author's laptop talks to.

Mounted at /api/admin/ only when BETWEEN_SESSIONS_ADMIN_TOKEN is set where the intake
runs; without it the paths do not exist (404). Every request carries
`Authorization: Bearer <token>`. The intake keeps only the token's SHA-256 and compares
in constant time; failed attempts are limited per address (429) and logged without the
token or the address.

- GET /api/admin/inbox: the inbox as moderation needs it, in JSON: {"schema": <version>,
  "comments": [every row, with its review context where moderation uses it; never the
  removal token's hash], "likes": [{"post_slug",
  "comment_id", "count"}], "folded_likes": [rows], "decisions": [the log],
  "known_commenters": [rows for the addresses of comments still to be checked]}. Reader
  hashes, like salts, subscriptions and mail stay here.
- POST /api/admin/changes: {"changes": [...]} applied in order in one transaction, all or
  nothing. Each change is idempotent, so a retry after a dropped connection changes
  nothing twice (the answer counts what was "applied" and what was "unchanged"):

  {"kind": "author_reply", "id", "parent_id", "author", "body", "created_at"}   the
                        author's reply written in the laptop's review, stored approved
                        with its id (already there: unchanged); first in a batch
  {"kind": "decide", "id", "expected", "status", "actor", "reasons", "needs_care",
   "akismet_verdict"}   a decision on the comment read with status `expected`; already
                        `status`: unchanged; anything else now: 409 naming both.
  {"kind": "reasons", "id", "reasons"}       why a comment is still pending
  {"kind": "edit", "id", "body", "actor"}    the author's edit in review
  {"kind": "published", "id"}                its file is written: the writer is
                        remembered (HOLD_FIRST_COMMENT) and its reply mail queued, held
  {"kind": "removed", "id"}                  the reader's removal is carried out
  {"kind": "likes", "post_slug", "comment_id", "base", "count"}   a file's folded likes
  {"kind": "deployed"}  the live site now shows what was published: held reply mail
                        is released to the sender (unchanged when none was held)

Reply mail goes out from here, where the subscribers' addresses live (issue 14). It is
queued with the "published" mark and held until the laptop's `invoke deploy` (or
`invoke moderate --deploy`) says "deployed", so a reader never follows a mail's link to a
page that does not show the reply yet.

The purge of private details runs here too (`moderation.intake.purge`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderation import commenters, inbox, outbox, subscriptions
from moderation.author_replies import add_author_reply
from moderation.inbox import Status
from moderation.intake.forms import Refusal
from moderation.intake.pages import human_wait
from moderation.intake.ratelimit import client_address
from moderation.notify import Notifier

if TYPE_CHECKING:
    from moderation.intake.app import Intake

log = logging.getLogger(__name__)
# Pelican, imported by the settings loader, gives every logger a filter that drops a warning
# already seen once; each refused attempt must be logged, the tenth as the first.
for duplicate_filter in list(log.filters):
    log.removeFilter(duplicate_filter)

Handler = Callable[[Request], Awaitable[Response]]

ADMIN_TOKEN_ENV = "BETWEEN_SESSIONS_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
# The statuses whose comments moderation may still check, review, correct or compare with.
NEEDS_PRIVATE_DETAILS = {Status.PENDING, Status.HELD, Status.SPAM, Status.APPROVED}
# Wrong tokens per address before it must wait: (attempts, seconds).
FAILED_ATTEMPTS_LIMIT = (10, 600)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class AdminAPI:
    """The admin endpoints of one intake, guarding them with the token's hash."""

    def __init__(self, intake: Intake, token: str) -> None:
        self.intake = intake
        self.digest = token_digest(token)
        self.failures = intake.admin_failures

    def routes(self) -> list[Route]:
        # The laptop's API, not a reader's form: its refusals are JSON whatever was asked.
        guarded = partial(self.intake.guarded, json_only=True)
        return [
            Route("/api/admin/inbox", guarded(self.authorised(self.read_inbox)), methods=["GET"]),
            Route(
                "/api/admin/changes", guarded(self.authorised(self.post_changes)), methods=["POST"]
            ),
        ]

    def authorised(self, handler: Handler) -> Handler:
        """`handler`, answered only with the right Bearer token."""

        async def endpoint(request: Request) -> Response:
            address = client_address(request)
            wait = self.failures.retry_after(address)
            if wait:
                raise Refusal(
                    429,
                    f"Too many wrong tokens; wait {human_wait(wait)}.",
                    headers={"Retry-After": str(wait)},
                )
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token_digest(given.strip()), self.digest
            ):
                self.failures.hit(address)
                await self.intake.writer.write(partial(self.failures.remember, key=address))
                log.warning(
                    "admin: refused a request to %s: missing or wrong token", request.url.path
                )
                raise Refusal(
                    401, "A valid admin token is needed.", headers={"WWW-Authenticate": "Bearer"}
                )
            return await handler(request)

        return endpoint

    async def read_inbox(self, request: Request) -> Response:
        return JSONResponse(
            await self.intake.writer.read(snapshot), headers={"Cache-Control": "no-store"}
        )

    async def post_changes(self, request: Request) -> Response:
        try:
            changes = json.loads(await request.body())["changes"]
        except (ValueError, KeyError, TypeError) as error:
            raise Refusal(400, 'The body must be JSON: {"changes": [...]}.') from error
        if not isinstance(changes, list):
            raise Refusal(400, '"changes" must be a list.')
        try:
            applied = await self.intake.writer.write(
                partial(apply_changes, changes=changes, notifier=self.intake.notifier)
            )
        except inbox.StaleDecisionError as error:
            raise Refusal(409, f"Refused, nothing changed: {error}.", "id") from error
        except UnknownChangeError as error:
            raise Refusal(422, f"Refused, nothing changed: {error}.", "changes") from error
        log.info("admin: %d change(s) applied, %d unchanged", applied, len(changes) - applied)
        # A "deployed" change has made held reply mail due: send it now, not at the next poll.
        self.intake.mail.wake()
        return JSONResponse({"applied": applied, "unchanged": len(changes) - applied})


def admin_routes(intake: Intake, environ: Mapping[str, str] = os.environ) -> list[Route]:
    """The admin API's routes when BETWEEN_SESSIONS_ADMIN_TOKEN is set; none otherwise."""
    token = environ.get(ADMIN_TOKEN_ENV, "")
    return AdminAPI(intake, token).routes() if token else []


def snapshot(connection: sqlite3.Connection) -> dict[str, Any]:
    """The inbox as the remote pipeline loads it (see the module's docstring)."""
    return {
        "schema": connection.execute("PRAGMA user_version").fetchone()[0],
        "comments": [for_moderation(row) for row in connection.execute("SELECT * FROM comments")],
        "likes": [
            {"post_slug": post, "comment_id": comment, "count": count}
            for (post, comment), count in inbox.like_counts(connection).items()
        ],
        "folded_likes": [dict(row) for row in connection.execute("SELECT * FROM folded_likes")],
        "decisions": [dict(row) for row in connection.execute("SELECT * FROM decisions")],
        "known_commenters": known_writers_of_pending(connection),
    }


def known_writers_of_pending(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """The remembered approvals (HOLD_FIRST_COMMENT) of whoever wrote a pending comment:
    the laptop's rules need them once the purge has emptied the writer's older comments."""
    pending = inbox.comments_with_status(connection, Status.PENDING)
    addresses = [row["email"] for row in pending if row["email"]]
    return [dict(row) for row in commenters.remembered(connection, addresses)]


def for_moderation(comment: sqlite3.Row) -> dict[str, Any]:
    """A comment as the laptop gets it: the private details only where moderation uses
    them (Akismet's check and corrections, review, "first comment from this address"),
    and never the removal token's hash."""
    row = dict(comment)
    del row["removal_token_hash"]
    if row["status"] not in NEEDS_PRIVATE_DETAILS:
        row.update(email=None, ip=None, user_agent=None, referrer=None)
    return row


class UnknownChangeError(ValueError):
    """A change this intake does not know, or one naming no comment."""


def apply_changes(
    connection: sqlite3.Connection, changes: list[dict[str, Any]], notifier: Notifier
) -> int:
    """Apply `changes` in order (inside the writer's transaction); returns how many changed
    anything. Raises StaleDecisionError or UnknownChangeError, and the transaction rolls back."""
    return sum(apply_change(connection, change, notifier) for change in changes)


def apply_change(
    connection: sqlite3.Connection, change: dict[str, Any], notifier: Notifier
) -> bool:
    """One change, idempotently: False when the inbox already says what it says."""
    kind = change.get("kind")
    if kind == "deployed":
        return outbox.release_held(connection) > 0
    if kind == "likes":
        state = inbox.folded_like_state(connection, change["post_slug"], change["comment_id"])
        if state is not None and (state["base"], state["count"]) == (
            change["base"],
            change["count"],
        ):
            return False
        inbox.record_like_base(
            connection, change["post_slug"], change["comment_id"], change["base"]
        )
        inbox.set_folded_count(
            connection, change["post_slug"], change["comment_id"], change["count"]
        )
        return True
    if kind == "author_reply":
        if inbox.get_comment(connection, str(change["id"])) is not None:
            return False
        parent = inbox.get_comment(connection, str(change["parent_id"]))
        if parent is None:
            raise UnknownChangeError(f"there is no comment {change['parent_id']!r} to reply to")
        add_author_reply(
            connection,
            parent,
            change["author"],
            change["body"],
            reply_id=str(change["id"]),
            created_at=change["created_at"],
        )
        return True
    comment = inbox.get_comment(connection, str(change.get("id")))
    if comment is None:
        raise UnknownChangeError(f"there is no comment {change.get('id')!r} in the inbox")
    if kind == "decide":
        status = Status(change["status"])
        if comment["status"] == status:
            return False
        inbox.decide(
            connection,
            comment["id"],
            status,
            change["actor"],
            list(change["reasons"]),
            expected=Status(change["expected"]),
            needs_care=change.get("needs_care"),
            akismet_verdict=change.get("akismet_verdict"),
        )
    elif kind == "reasons":
        if json.loads(comment["reasons"]) == change["reasons"]:
            return False
        inbox.set_reasons(connection, comment["id"], list(change["reasons"]))
    elif kind == "edit":
        if comment["body"] == change["body"]:
            return False
        inbox.set_body(connection, comment["id"], change["body"], change["actor"])
    elif kind == "published":
        if comment["published_at"] is not None:
            return False
        inbox.mark_published(connection, comment["id"])
        # As local publishing does (publish._publish_batch), in the same transaction.
        if comment["email"]:
            commenters.remember(connection, comment["email"])
        subscriptions.queue_reply_mails(connection, notifier, comment, held=True)
    elif kind == "removed":
        if comment["status"] == Status.REMOVED:
            return False
        inbox.mark_removed(connection, comment["id"])
    else:
        raise UnknownChangeError(f"unknown change {kind!r}")
    return True
