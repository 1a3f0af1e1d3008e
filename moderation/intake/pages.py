"""The few pages the intake itself serves to readers without JavaScript.

An error with the way back, the receipt with the private removal link, and the
confirmation before a removal; the last two list the reader's reply-mail subscriptions,
each with a button that ends it. Each is filled into the theme's shell (the build writes the
theme's intake_page.html to `ProjectSettings.intake_page`), so it has the site's header,
stylesheet and text column. The shell's links come from SITEURL at build time; nothing here
builds a link from the request. Before the first build there is no shell, and a plain page
in the site's stylesheet stands in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import escape
from pathlib import Path

log = logging.getLogger(__name__)

# For a page whose URL holds a private token and whose form POSTs back: not cached, and
# only the origin is ever sent on. Unlike no-referrer, strict-origin keeps the form's
# Origin header, which the intake's cross-site check needs on the POST.
TOKEN_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "strict-origin"}

TITLE_MARKER = "<!--intake:title-->"
BODY_MARKER = "<!--intake:body-->"

STAND_IN_SHELL = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{TITLE_MARKER}</title>
<link rel="stylesheet" href="/theme/css/main.css">
<link rel="stylesheet" href="/theme/css/comments.css">
</head>
<body>
<main id="main" class="wrap intake-page">
<h1>{TITLE_MARKER}</h1>
{BODY_MARKER}
</main>
</body>
</html>
"""


def human_wait(seconds: int) -> str:
    """A wait as a person says it: "a few seconds", "about a minute", "about 9 minutes"."""
    if seconds < 45:
        return "a few seconds" if seconds < 10 else f"about {round(seconds, -1)} seconds"
    minutes = round(seconds / 60)
    if minutes < 2:
        return "about a minute"
    if minutes < 60:
        return f"about {minutes} minutes"
    hours = round(seconds / 3600)
    return "about an hour" if hours < 2 else f"about {hours} hours"


def replies_line(subscribed: bool) -> str:
    """What became of a ticked "Email me when someone replies" box (issue 14)."""
    if subscribed:
        return (
            "To get emails about replies, open the link in the email we just sent you and "
            "press its button. Nothing is sent until you do."
        )
    return "Reply emails are not set up on this blog, so none will be sent."


def back_link(url: str | None, text: str = "Back to the post") -> str:
    if not url:
        return '<p><a href="/">Back to the blog</a></p>'
    return f'<p><a href="{escape(url)}">{escape(text)}</a></p>'


@dataclass(frozen=True)
class ReplySubscription:
    """One reply-mail subscription as its reader sees it on her private pages."""

    id: int
    post_title: str
    post_url: str
    confirmed: bool


def subscriptions_section(
    subscriptions: list[ReplySubscription], action: str, token: str, *, ended: bool = False
) -> str:
    """Her reply-mail subscriptions, each with a button POSTing to `action` with the
    private link's `token`; nothing when there are none (unless one was just `ended`)."""
    if not subscriptions and not ended:
        return ""
    items = "".join(
        "<li>Replies to your comment on "
        f'<a href="{escape(item.post_url)}">{escape(item.post_title)}</a>: '
        + (
            "you get an email for each."
            if item.confirmed
            else "waiting for you to press the button in the email we sent you."
        )
        + f'<form class="end-subscription" method="post" action="{escape(action)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<input type="hidden" name="subscription" value="{item.id}">'
        f'<button type="submit">Stop emails about replies on “{escape(item.post_title)}”'
        "</button></form></li>"
        for item in subscriptions
    )
    return (
        '<section class="reply-subscriptions"><h2>Emails about replies</h2>'
        + (
            f"<ul>{items}</ul>"
            if items
            else "<p>None left to show here. Every reply email also has a link that stops it.</p>"
        )
        + "</section>"
    )


class IntakePages:
    """The intake's pages, each in the theme's shell at `shell_path`."""

    def __init__(self, shell_path: Path) -> None:
        self.shell_path = shell_path

    def shell(self) -> str:
        """The built shell, read each time (these pages are rare, and a rebuild shows at
        once), or the stand-in when the site is not built or the theme has no shell."""
        try:
            shell = self.shell_path.read_text(encoding="utf-8")
        except OSError:
            return STAND_IN_SHELL
        if TITLE_MARKER not in shell or BODY_MARKER not in shell:
            log.warning("intake: %s has no intake markers; using a plain page", self.shell_path)
            return STAND_IN_SHELL
        return shell

    def page(self, title: str, body: str) -> str:
        """A whole page around `body` (already-escaped HTML)."""
        return self.shell().replace(TITLE_MARKER, escape(title)).replace(BODY_MARKER, body)

    def error_page(self, message: str, post_url: str | None) -> str:
        """What a refused form post shows: the reason, and the way back to what she typed."""
        return self.page(
            "Your comment was not sent",
            f'<p role="alert">{escape(message)}</p>'
            "<p>Use your browser’s Back button to return to the form; what you typed is "
            "still there.</p>" + back_link(post_url),
        )

    def receipt_page(
        self,
        removal_url: str | None,
        post_url: str,
        care_note: str = "",
        replies: str | None = None,
        subscriptions: str = "",
    ) -> str:
        """After a no-JavaScript comment post: the private removal link, shown once (None:
        the cookie is gone), below the note with support resources when the words need
        care, and what became of the reply-mail box if she ticked it, with her
        `subscriptions` (a `subscriptions_section`)."""
        keep = (
            "<p>If you ever want it taken down, keep this private link; it is shown only "
            "once and anyone who has it can remove your comment:</p>"
            f'<p class="removal-link"><a href="{escape(removal_url)}">'
            f"{escape(removal_url)}</a></p>"
            if removal_url
            else ""
        )
        return self.page(
            "Your comment is awaiting moderation",
            care_note
            + "<p>Thank you. Your comment will appear once it has been approved.</p>"
            + (f'<p class="comment-replies">{escape(replies)}</p>' if replies else "")
            + keep
            + subscriptions
            + back_link(post_url),
        )

    def no_receipt_page(self) -> str:
        """The receipt asked for a second time (or with cookies off)."""
        return self.page(
            "Nothing to show",
            "<p>The private removal link is shown only once, right after you post a comment.</p>"
            + back_link(None),
        )

    def confirm_removal_page(self, action: str, token: str, subscriptions: str = "") -> str:
        """The confirmation step of a removal link: a button, so a link preview removes
        nothing; then her `subscriptions` (a `subscriptions_section`)."""
        return self.page(
            "Remove your comment?",
            "<p>This asks for your comment to be taken down. It disappears from the blog at "
            "the author’s next update.</p>"
            f'<form class="removal-form" method="post" action="{escape(action)}">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            '<button type="submit">Remove my comment</button></form>'
            + subscriptions
            + back_link(None),
        )

    def subscription_ended_page(self, subscriptions: str) -> str:
        """After a button of `subscriptions_section`: what is left of her subscriptions."""
        return self.page(
            "No more emails about those replies",
            "<p>Done: that subscription is deleted, with your address in it.</p>"
            + subscriptions
            + back_link(None),
        )

    def removal_queued_page(self) -> str:
        """What a reader sees once her removal request is stored."""
        return self.page(
            "Your comment will be removed",
            "<p>Your request is saved. The comment disappears from the blog at the author’s "
            "next update.</p>" + back_link(None),
        )
