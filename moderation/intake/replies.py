"""The intake's side of reply mail (issue 14): the reader confirms or ends a subscription.

- GET /api/subscriptions/confirm?token=…: a page with a button; GET confirms nothing, since
  link scanners and previews follow links in mail.
- POST /api/subscriptions/confirm (token in the query or form): confirms.
- GET /api/subscriptions/unsubscribe?token=…: a page with a button.
- POST /api/subscriptions/unsubscribe?token=…: deletes the subscription. This is also the
  RFC 8058 one-click address in each reply mail's List-Unsubscribe header: a mail program
  POSTs `List-Unsubscribe=One-Click` to it, and that is enough.

The owner of what these do is `moderation.subscriptions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from moderation import subscriptions
from moderation.intake import pages
from moderation.intake.forms import Refusal
from moderation.intake.writer import InboxWriter

FieldReader = Callable[[Request], Awaitable[dict[str, str]]]


def button_page(
    intake_pages: pages.IntakePages, title: str, text: str, action: str, token: str, button: str
) -> str:
    return intake_pages.page(
        title,
        f"<p>{escape(text)}</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<button type="submit">{escape(button)}</button></form>' + pages.back_link(None),
    )


def button_answer(
    intake_pages: pages.IntakePages, request: Request, title: str, text: str, button: str
) -> Response:
    """The page a link in a mail opens: nothing happens until its button POSTs back here."""
    return HTMLResponse(
        button_page(intake_pages, title, text, request.url.path, query_token(request), button),
        headers=pages.TOKEN_PAGE_HEADERS,
    )


def query_token(request: Request) -> str:
    token = request.query_params.get("token", "")
    if not token:
        raise Refusal(400, "This link has no token; use the whole link from the mail.", "token")
    return token


async def posted_token(request: Request, read_fields: FieldReader) -> str:
    """The token from the query (one-click unsubscribe) or from the page's form."""
    token = request.query_params.get("token", "")
    if not token:
        token = (await read_fields(request)).get("token", "")
    if not token:
        raise Refusal(422, "The request has no token.", "token")
    return token


class Replies:
    """The subscription endpoints; `read_fields` is the intake's body reader."""

    def __init__(
        self, writer: InboxWriter, read_fields: FieldReader, intake_pages: pages.IntakePages
    ) -> None:
        self.writer = writer
        self.pages = intake_pages
        self.read_fields = read_fields

    async def confirm_page(self, request: Request) -> Response:
        return button_answer(
            self.pages,
            request,
            "Email me about replies?",
            "Press the button to get an email when someone replies to your comment. "
            "Each email has a link to stop them.",
            "Yes, email me about replies",
        )

    async def confirm(self, request: Request) -> Response:
        token = await posted_token(request, self.read_fields)
        confirmed = await self.writer.write(partial(subscriptions.confirm, token=token))
        if not confirmed:
            raise Refusal(
                404,
                "This confirmation link is unknown or older than "
                f"{subscriptions.CONFIRM_DAYS} days; tick the box again with your next comment.",
            )
        return HTMLResponse(
            self.pages.page(
                "You will hear about replies",
                "<p>When a reply to your comment is published, you get an email with it. "
                "Each one has a link to stop them.</p>" + pages.back_link(None),
            ),
            headers=pages.TOKEN_PAGE_HEADERS,
        )

    async def unsubscribe_page(self, request: Request) -> Response:
        return button_answer(
            self.pages,
            request,
            "Stop the reply emails?",
            "Press the button and you get no more emails about replies to this comment; "
            "your address is deleted from the list.",
            "Stop these emails",
        )

    async def unsubscribe(self, request: Request) -> Response:
        token = await posted_token(request, self.read_fields)
        await self.writer.write(partial(subscriptions.unsubscribe, token=token))
        # The same answer whether or not it was still there: it is gone either way.
        return HTMLResponse(
            self.pages.page(
                "No more reply emails",
                "<p>Done: you get no more emails about replies to this comment.</p>"
                + pages.back_link(None),
            ),
            headers=pages.TOKEN_PAGE_HEADERS,
        )
