"""A reader's reply-mail subscriptions on her private pages (issue 14).

The receipt after a no-JavaScript post and the page a removal link opens both list them
(`OwnSubscriptions.section`), each with a button; the button POSTs to
/api/comments/<id>/subscriptions with the private link's token and the subscription's id,
and the answer lists what is left (`OwnSubscriptions.end`). The token is the removal
link's, checked against its stored hash in constant time
(`inbox.comment_with_removal_token`); which subscriptions a link may show is
`moderation.subscriptions.shown_to_writer`'s to say. Nothing here takes an address.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from moderation import inbox, subscriptions
from moderation.intake import pages
from moderation.intake.forms import Refusal
from moderation.intake.targets import Targets
from moderation.intake.writer import InboxWriter

FieldReader = Callable[[Request], Awaitable[dict[str, str]]]


def end_path(comment_id: str) -> str:
    """Where the buttons POST: a path on the intake (the page's own origin)."""
    return f"/api/comments/{comment_id}/subscriptions"


def rows_for_link(
    connection: sqlite3.Connection, comment_id: str, token: str
) -> list[sqlite3.Row] | None:
    """The subscriptions the private link of `comment_id` shows; None: not its token."""
    comment = inbox.comment_with_removal_token(connection, comment_id, token)
    return None if comment is None else subscriptions.shown_to_writer(connection, comment)


def end_with_link(
    connection: sqlite3.Connection, comment_id: str, token: str, subscription_id: int
) -> list[sqlite3.Row] | None:
    """End one subscription the link shows, if it still does; returns what the link shows
    now, None when it is not that comment's token (call inside a transaction)."""
    comment = inbox.comment_with_removal_token(connection, comment_id, token)
    if comment is None:
        return None
    subscriptions.end_for_writer(connection, comment, subscription_id)
    return subscriptions.shown_to_writer(connection, comment)


class OwnSubscriptions:
    """The listing and its buttons, for the intake's pages."""

    def __init__(
        self,
        writer: InboxWriter,
        targets: Targets,
        intake_pages: pages.IntakePages,
        read_fields: FieldReader,
        site_link: Callable[[str], str],
    ) -> None:
        self.writer = writer
        self.targets = targets
        self.pages = intake_pages
        self.read_fields = read_fields
        self.site_link = site_link

    async def section(self, comment_id: str, token: str) -> str:
        """The listing for a receipt or removal page; nothing for a token that is not the
        comment's (that page says so itself when its button is pressed)."""
        rows = await self.writer.read(partial(rows_for_link, comment_id=comment_id, token=token))
        return self.render(comment_id, token, rows or [])

    async def end(self, request: Request) -> Response:
        comment_id = request.path_params["comment_id"]
        fields = await self.read_fields(request)
        token = fields.get("token", "")
        if not token:
            raise Refusal(422, "The request has no token; use the button on your page.", "token")
        try:
            subscription_id = int(fields.get("subscription", ""))
        except ValueError as error:
            raise Refusal(422, "Which subscription to end is missing.", "subscription") from error
        left = await self.writer.write(
            partial(
                end_with_link, comment_id=comment_id, token=token, subscription_id=subscription_id
            )
        )
        if left is None:
            raise Refusal(403, "This link does not belong to that comment.", "token")
        # The same answer whether or not it was still there: it is gone either way.
        return HTMLResponse(
            self.pages.subscription_ended_page(self.render(comment_id, token, left, ended=True)),
            headers=pages.TOKEN_PAGE_HEADERS,
        )

    def render(
        self, comment_id: str, token: str, rows: list[sqlite3.Row], *, ended: bool = False
    ) -> str:
        shown = []
        for row in rows:
            post = self.targets.post(row["post_slug"])
            shown.append(
                pages.ReplySubscription(
                    id=row["id"],
                    post_title=post.title if post is not None else row["post_slug"],
                    post_url=self.site_link(post.url) if post is not None else self.site_link("/"),
                    confirmed=row["confirmed_at"] is not None,
                )
            )
        return pages.subscriptions_section(shown, end_path(comment_id), token, ended=ended)
