"""The comment intake: what a reader's browser talks to when she presses "Post Comment" or "Like".

A Starlette (ASGI) app, served by uvicorn (see `moderation.intake.server`):

- POST /api/comments: a comment, form-encoded (answer: 303 to the post's
  `#comment-pending`) or from JavaScript (JSON or fetch with Accept: application/json;
  answer: 202 with the id and a private removal link).
- GET /api/comments/receipt: once, after a form post, the private removal link (a
  short-lived cookie carries it, so a page without JavaScript can get it).
- GET /api/comments/<id>/remove?token=...: a confirmation page; POST the same URL (token in
  the query, form or JSON) to queue the removal. The token is stored only as a hash.
- POST /api/likes: one like per reader per comment; answers the new count.
- GET /api/likes?post=<slug>: live like counts of a post's comments.

Every refusal is a clear 4xx (see moderation.intake.forms); an unexpected fault is logged and
answered 503, never a 500 with a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from threaded_comments import PostEntry, likes_text

from moderation import inbox, notify, subscriptions
from moderation.intake import pages
from moderation.intake.admin import FAILED_ATTEMPTS_LIMIT, admin_routes
from moderation.intake.care import care_answer, care_html, needs_care, placeholder_left
from moderation.intake.forms import (
    JSON_TYPE,
    MAX_FIELDS,
    Refusal,
    check_comment_form,
    check_like_form,
    check_media_type,
    check_utf8,
    first_values,
    identifier,
    media_type,
    parse_json,
    parse_urlencoded,
)
from moderation.intake.guards import Origins, WaitingCap
from moderation.intake.mailer import MailSender
from moderation.intake.own_subscriptions import OwnSubscriptions, end_path
from moderation.intake.purge import purge_daily
from moderation.intake.ratelimit import RateLimiter, client_address
from moderation.intake.replies import Replies
from moderation.intake.targets import Targets, TargetsUnavailableError
from moderation.intake.writer import InboxWriter
from moderation.settings import ProjectSettings

log = logging.getLogger(__name__)

RECEIPT_COOKIE = "comment_receipt"
RECEIPT_PATH = "/api/comments/receipt"
RECEIPT_SECONDS = 3600
# Context fields come from the request, not the reader; keep their size bounded all the same.
CONTEXT_MAX = 500

Handler = Callable[[Request], Awaitable[Response]]


def reader_hash(salt: str, address: str, user_agent: str) -> str:
    """Recognises a reader's likes without keeping her address: forgotten when the salt is."""
    return hashlib.sha256(f"{salt}\n{address}\n{user_agent}".encode()).hexdigest()


def wants_json(request: Request) -> bool:
    """JavaScript callers ask for JSON; a plain form post gets pages and redirects."""
    return (
        "application/json" in request.headers.get("accept", "")
        or media_type(request.headers.get("content-type")) == JSON_TYPE
    )


class Intake:
    """The intake's state: settings, targets, the inbox writer and the rate limiters."""

    def __init__(self, settings: ProjectSettings, port: int | None = None) -> None:
        """`port`: where `invoke serve` serves the site and the intake on 127.0.0.1."""
        self.settings = settings
        options = settings.intake
        self.origins = Origins(settings, port)
        self.targets = Targets(settings.intake_comments_json)
        self.writer = InboxWriter(
            settings.inbox, synchronous=options.synchronous, max_batch=options.max_batch
        )
        self.comment_limits = limiter("comments", options.comment_rate_limit)
        self.like_limits = limiter("likes", options.like_rate_limit)
        self.comment_like_limits = limiter("comment-likes", options.comment_like_rate_limit)
        self.admin_failures = RateLimiter("admin-failures", *FAILED_ATTEMPTS_LIMIT)
        self.waiting_cap = (
            WaitingCap(options.max_waiting, partial(self.writer.read, inbox.count_waiting))
            if options.max_waiting is not None
            else None
        )
        self.notifier = notify.Notifier.from_settings(settings)
        self.mail = MailSender(settings.inbox, self.notifier, self.post_title)
        self.pages = pages.IntakePages(settings.intake_page)
        self.replies = Replies(self.writer, self.read_fields, self.pages)
        self.own_subscriptions = OwnSubscriptions(
            self.writer, self.targets, self.pages, self.read_fields, self.site_link
        )

    def routes(self) -> list[Route]:
        """The intake's routes, under /api, for its own app or the one-port site app."""
        return [
            Route("/api/comments", self.guarded(self.post_comment), methods=["POST"]),
            Route(RECEIPT_PATH, self.guarded(self.receipt), methods=["GET"]),
            Route(
                "/api/comments/{comment_id}/remove",
                self.guarded(self.confirm_removal),
                methods=["GET"],
            ),
            Route(
                "/api/comments/{comment_id}/remove",
                self.guarded(self.post_removal),
                methods=["POST"],
            ),
            Route("/api/likes", self.guarded(self.post_like), methods=["POST"]),
            Route("/api/likes", self.guarded(self.get_likes), methods=["GET"]),
            *admin_routes(self),
            # Issue 14: a reader confirms or ends her wish to hear about replies.
            *(
                Route(path, self.guarded(handler), methods=[method])
                for path, method, handler in (
                    (subscriptions.CONFIRM_PATH, "GET", self.replies.confirm_page),
                    (subscriptions.CONFIRM_PATH, "POST", self.replies.confirm),
                    (subscriptions.UNSUBSCRIBE_PATH, "GET", self.replies.unsubscribe_page),
                    (subscriptions.UNSUBSCRIBE_PATH, "POST", self.replies.unsubscribe),
                    (end_path("{comment_id}"), "POST", self.own_subscriptions.end),
                )
            ),
        ]

    @property
    def rate_limits(self) -> list[RateLimiter]:
        """Every limit this intake keeps (a limit set to None in the settings is off)."""
        every = (self.comment_limits, self.like_limits, self.comment_like_limits)
        return [limits for limits in (*every, self.admin_failures) if limits is not None]

    def load_rate_limits(self, connection: sqlite3.Connection) -> None:
        """Start every limit from the events the inbox still holds (a restart clears none)."""
        for limits in self.rate_limits:
            limits.load(connection)

    def forget_expired_rate_events(self, connection: sqlite3.Connection) -> None:
        """Delete the inbox's rate-limit events that are out of their windows."""
        for limits in self.rate_limits:
            limits.forget_expired(connection)

    def close(self) -> None:
        """Commit what is queued and stop the writer."""
        self.writer.close()

    # --- the endpoints ---

    async def post_comment(self, request: Request) -> Response:
        fields = await self.read_fields(request)
        # The post first: a refused form's page can then link back to it.
        post = self.target_post(request, identifier(fields, "post", "post"))
        form = check_comment_form(fields)
        if not post.open:
            raise Refusal(403, f"Comments on “{post.title}” are closed.", "post")
        if form.replyto and form.replyto not in post.comments:
            raise Refusal(
                404,
                "The comment you are replying to is not on this post (or not published yet).",
                "replyto",
            )
        address = client_address(request)
        reserve(self.comment_limits, address, "comments from your address")
        try:
            if self.waiting_cap:
                await self.waiting_cap.admit()
        except BaseException:
            refund(self.comment_limits, address)
            raise
        token = secrets.token_urlsafe(24)
        comment = inbox.NewComment(
            post_slug=post.slug,
            author=form.author,
            email=form.email,
            body=form.comment,
            # Absolute, as Akismet wants it, from configuration only (never the Host header).
            permalink=self.origins.site + post.url,
            parent_id=form.replyto,
            website=form.website,
            ip=address,
            user_agent=request.headers.get("user-agent", "")[:CONTEXT_MAX],
            referrer=request.headers.get("referer", "")[:CONTEXT_MAX] or None,
            honeypot=form.honeypot,
            removal_token_hash=inbox.hash_token(token),
        )
        # The pipeline's own rule, asked at once: the reader is shown help now, the author
        # is mailed now (in the transaction that stores the comment), not at the next run.
        care = needs_care(form.comment)
        # An unticked box sends nothing; only "1" (the box's value) asks for reply mail.
        wants_replies = fields.get("subscribe") == "1"

        def store(connection: sqlite3.Connection) -> tuple[str, bool]:
            comment_id = inbox.insert_comment(connection, comment)
            remember(self.comment_limits, connection, address)
            if care:
                notify.announce_care(connection, self.notifier, comment_id, comment, post.title)
            subscribed = wants_replies and subscriptions.subscribe(
                connection, self.notifier, comment_id, comment, post.title
            )
            return comment_id, subscribed

        try:
            comment_id, subscribed = await self.writer.write(store)
        except BaseException:
            # Not stored: the reader's attempt and the inbox's room are given back.
            refund(self.comment_limits, address)
            if self.waiting_cap:
                self.waiting_cap.release()
            raise
        # What becomes of a ticked "Email me when someone replies" box, in her answer.
        replies = pages.replies_line(subscribed) if wants_replies else None
        self.mail.wake()
        log.info(
            "intake: comment %s received for %s%s",
            comment_id,
            post.slug,
            " (needs care: support resources shown)" if care else "",
        )
        removal_url = self.removal_link(comment_id, token)
        if wants_json(request):
            answer: dict[str, Any] = {
                "id": comment_id,
                "status": "pending",
                "message": "Your comment is awaiting moderation.",
                "removal_url": removal_url,
            }
            if care:
                answer["care"] = care_answer(self.settings.care)
            if replies:
                answer["replies"] = replies
            return JSONResponse(answer, status_code=202)
        # Without JavaScript the post's static page cannot show the support resources, nor
        # what became of the reply-mail box, so those answers come from the intake's own
        # page, at once.
        flags = {"care": "1"} if care else {}
        if wants_replies:
            flags["replies"] = "sent" if subscribed else "off"
        location = (
            f"{RECEIPT_PATH}?{urlencode({'post': post.slug, **flags})}"
            if flags
            else self.site_link(post.url) + "#comment-pending"
        )
        response = RedirectResponse(location, status_code=303)
        response.set_cookie(
            RECEIPT_COOKIE,
            f"{post.slug}:{comment_id}:{token}",
            max_age=RECEIPT_SECONDS,
            path=RECEIPT_PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    async def receipt(self, request: Request) -> Response:
        parts = request.cookies.get(RECEIPT_COOKIE, "").split(":")
        # The support resources show even with cookies off: they are no secret.
        care = request.query_params.get("care") == "1"
        replies = request.query_params.get("replies")
        if len(parts) != 3 and not (care or replies):
            return HTMLResponse(self.pages.no_receipt_page(), status_code=404)
        slug, comment_id, token = parts if len(parts) == 3 else (None, None, None)
        post = self.targets.post(slug or request.query_params.get("post", ""))
        removal_url = self.removal_link(comment_id, token) if comment_id and token else None
        response = HTMLResponse(
            self.pages.receipt_page(
                removal_url,
                self.site_link(post.url) if post else "/",
                care_html(self.settings.care) if care else "",
                pages.replies_line(replies == "sent") if replies else None,
                await self.own_subscriptions.section(comment_id, token)
                if comment_id and token
                else "",
            ),
            headers={"Cache-Control": "no-store"},
        )
        # Shown once: the link is hers to keep, not the browser's.
        response.delete_cookie(RECEIPT_COOKIE, path=RECEIPT_PATH)
        return response

    async def confirm_removal(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token:
            raise Refusal(400, "This removal link has no token; use the whole link.", "token")
        return HTMLResponse(
            self.pages.confirm_removal_page(
                request.url.path,
                token,
                await self.own_subscriptions.section(request.path_params["comment_id"], token),
            ),
            headers=pages.TOKEN_PAGE_HEADERS,
        )

    async def post_removal(self, request: Request) -> Response:
        comment_id = request.path_params["comment_id"]
        token = request.query_params.get("token", "")
        if not token:
            token = (await self.read_fields(request)).get("token", "")
        if not token:
            raise Refusal(422, "The removal request has no token.", "token")
        outcome = await self.writer.write(
            partial(inbox.request_removal, comment_id=comment_id, token=token)
        )
        if outcome is inbox.RemovalRequest.UNKNOWN:
            raise Refusal(404, "There is no comment with that id in the inbox.")
        if outcome is inbox.RemovalRequest.REFUSED:
            raise Refusal(403, "This removal link does not belong to that comment.", "token")
        log.info("intake: removal of %s requested (%s)", comment_id, outcome)
        if wants_json(request):
            return JSONResponse({"id": comment_id, "status": "removal-requested"}, status_code=202)
        return HTMLResponse(self.pages.removal_queued_page())

    async def post_like(self, request: Request) -> Response:
        like = check_like_form(await self.read_fields(request))
        post = self.target_post(request, like.post)
        if like.comment not in post.comments:
            raise Refusal(404, "There is no such comment on this post.", "comment")
        if not post.open:
            raise Refusal(403, f"“{post.title}” is closed: it takes no more likes.", "post")
        address = client_address(request)
        reserve(self.like_limits, address, "likes from your address")
        # Per comment too: many addresses (or one with many user agents) cannot pile up likes.
        try:
            reserve(
                self.comment_like_limits, f"{post.slug}/{like.comment}", "likes on this comment"
            )
        except Refusal:
            refund(self.like_limits, address)
            raise
        period = str(int(time.time() // (self.settings.intake.like_salt_days * 86400)))
        user_agent = request.headers.get("user-agent", "")

        def record(connection: sqlite3.Connection) -> tuple[bool, int]:
            remember(self.like_limits, connection, address)
            remember(self.comment_like_limits, connection, f"{post.slug}/{like.comment}")
            salt = inbox.like_salt(connection, period)
            added = inbox.add_like(
                connection, post.slug, like.comment, reader_hash(salt, address, user_agent)
            )
            return added, inbox.unfolded_likes(connection, post.slug).get(like.comment, 0)

        try:
            added, fresh = await self.writer.write(record)
        except BaseException:
            refund(self.like_limits, address)
            refund(self.comment_like_limits, f"{post.slug}/{like.comment}")
            raise
        count = post.likes.get(like.comment, 0) + fresh
        if wants_json(request):
            return JSONResponse(
                {
                    "post": post.slug,
                    "comment": like.comment,
                    "likes": count,
                    "label": likes_text(count),
                    "added": added,
                }
            )
        return RedirectResponse(
            self.site_link(post.url) + f"#comment-{like.comment}", status_code=303
        )

    async def get_likes(self, request: Request) -> Response:
        post = self.target_post(request, identifier(request.query_params, "post", "post"))
        return JSONResponse(
            {"post": post.slug, "likes": await self.like_counts(post)},
            headers={"Cache-Control": "no-store"},
        )

    # --- shared steps ---

    async def like_counts(self, post: PostEntry) -> dict[str, int]:
        """Live like counts of a post's comments: the published files' plus the inbox's new."""
        fresh = await self.writer.read(partial(inbox.unfolded_likes, post_slug=post.slug))
        return {
            comment: post.likes.get(comment, 0) + fresh.get(comment, 0)
            for comment in sorted(post.comments)
        }

    def target_post(self, request: Request, slug: str) -> PostEntry:
        post = self.targets.post(slug)
        if post is None:
            raise Refusal(404, f"There is no post {slug!r} on this blog.", "post")
        request.state.post_url = self.site_link(post.url)
        return post

    def removal_link(self, comment_id: str, token: str) -> str:
        """The reader's private link to ask for her comment's removal (configured origin)."""
        return f"{self.origins.intake}/api/comments/{comment_id}/remove?token={token}"

    def post_title(self, slug: str) -> str:
        """A post's title for the author's mail; its slug when the site no longer has it."""
        post = self.targets.post(slug)
        return post.title if post is not None else slug

    def site_link(self, path: str) -> str:
        """A link to a page of the site: absolute when the site lives elsewhere (SITEURL)."""
        return f"{self.settings.site_url}{path}"

    async def read_fields(self, request: Request) -> dict[str, str]:
        """The request's form or JSON fields; refuses wrong types, oversized and broken bodies."""
        kind = check_media_type(request.headers.get("content-type"))
        options = self.settings.intake
        body = await read_body(request, options.max_body_bytes, options.body_timeout)
        if kind == JSON_TYPE:
            return parse_json(body)
        if kind == "application/x-www-form-urlencoded":
            return parse_urlencoded(body)
        # Starlette reads undecodable parts as Latin-1; a reader's text must be UTF-8.
        check_utf8(body)
        return await parse_multipart(request, body)

    def guarded(self, handler: Handler, json_only: bool = False) -> Handler:
        """Turn refusals into clear answers and any unexpected fault into a logged 503;
        `json_only` for an API no form posts to (the admin API), which answers JSON alone."""

        async def endpoint(request: Request) -> Response:
            try:
                if request.method == "POST":
                    self.origins.check(request)
                return await handler(request)
            except Refusal as refusal:
                return refusal_response(request, refusal, self.pages, json_only)
            except ClientDisconnect:
                # Nobody is left to answer; nothing was stored. Not a fault of ours.
                log.info("intake: a client went away mid-request on %s", request.url.path)
                return Response(status_code=400)
            except TargetsUnavailableError as error:
                log.error("intake: %s", error)
                return refusal_response(
                    request,
                    Refusal(
                        503,
                        "The blog is being updated; try again in a minute.",
                        headers={"Retry-After": "60"},
                    ),
                    self.pages,
                    json_only,
                )
            except Exception:
                log.exception("intake: unexpected fault on %s %s", request.method, request.url.path)
                return refusal_response(
                    request,
                    Refusal(
                        503,
                        "Something went wrong on our side and nothing was saved; "
                        "please try again in a minute.",
                        headers={"Retry-After": "60"},
                    ),
                    self.pages,
                    json_only,
                )

        return endpoint


def limiter(kind: str, limit: tuple[int, int] | None) -> RateLimiter | None:
    return RateLimiter(kind, *limit) if limit else None


def reserve(limits: RateLimiter | None, key: str, what: str) -> None:
    """Count this request against `key`'s limit before anything is awaited, or refuse (429)."""
    if limits is None:
        return
    wait = limits.reserve(key)
    if wait:
        raise Refusal(
            429,
            f"Too many {what}; please wait {pages.human_wait(wait)}.",
            headers={"Retry-After": str(wait)},
        )


def refund(limits: RateLimiter | None, key: str) -> None:
    """Give back a reservation whose request failed."""
    if limits is not None:
        limits.refund(key)


def remember(limits: RateLimiter | None, connection: sqlite3.Connection, key: str) -> None:
    """Keep a reservation in the inbox, in the transaction that stores what it counted."""
    if limits is not None:
        limits.remember(connection, key)


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes, and with
    408 when it has not all arrived within `seconds` (a slow client holds a worker)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"The request is larger than {limit // 1024} KiB.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refusal(413, f"The request is larger than {limit // 1024} KiB.")
                chunks.append(chunk)
    except TimeoutError as error:
        raise Refusal(408, f"The request did not arrive within {seconds:g} seconds.") from error
    return b"".join(chunks)


async def parse_multipart(request: Request, body: bytes) -> dict[str, str]:
    """Fields of a multipart body (what fetch sends for FormData); files are refused."""

    async def replay() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(request.headers, replay(), max_files=0, max_fields=MAX_FIELDS)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise Refusal(400, f"The form cannot be read: {error.message}") from error
    return first_values(
        [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    )


def refusal_response(
    request: Request, refusal: Refusal, intake_pages: pages.IntakePages, json_only: bool = False
) -> Response:
    """A refusal as JSON for scripts (and for `json_only` APIs), or as a small page for a
    plain form post."""
    if json_only or wants_json(request):
        content: dict[str, Any] = {"error": refusal.message}
        if refusal.field:
            content["field"] = refusal.field
        return JSONResponse(content, status_code=refusal.status, headers=refusal.headers)
    return HTMLResponse(
        intake_pages.error_page(refusal.message, getattr(request.state, "post_url", None)),
        status_code=refusal.status,
        headers=refusal.headers,
    )


def app_around(intake: Intake, routes: list[BaseRoute], middleware: list[Middleware]) -> Starlette:
    """A Starlette app serving `routes` that purges old private details while it runs and
    commits the intake's queue when it stops."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if placeholder_left(intake.settings.care):
            log.warning(
                "intake: CARE['RESOURCES'] still holds the sample's helpline placeholder; "
                "readers are not shown it (see README, A reader in crisis)"
            )
        try:
            await intake.writer.write(intake.load_rate_limits)
        except Exception:
            # The intake still starts: each request then answers 503 while the inbox is
            # unusable, and the limits count from now, as they did before they were kept.
            log.exception("intake: the rate limits could not be loaded from the inbox")
        purging = asyncio.create_task(purge_daily(intake))
        intake.mail.start()
        yield
        purging.cancel()
        await intake.mail.stop()
        intake.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.intake = intake
    return app


def create_app(settings: ProjectSettings, port: int | None = None) -> Starlette:
    """The intake alone (`invoke intake`): for production behind a reverse proxy."""
    intake = Intake(settings, port)
    middleware = []
    if settings.intake.allowed_origin:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=[settings.intake.allowed_origin],
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Accept"],
                max_age=3600,
            )
        )
    return app_around(intake, intake.routes(), middleware)
