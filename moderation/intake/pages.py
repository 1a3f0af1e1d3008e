"""The few pages the intake itself serves to readers without JavaScript.

Plain, accessible HTML in the site's own stylesheet: an error with the way back, the
receipt with the private removal link, and the confirmation before a removal.
"""

from __future__ import annotations

from html import escape

# For a page whose URL holds a private token and whose form POSTs back: not cached, and
# only the origin is ever sent on. Unlike no-referrer, strict-origin keeps the form's
# Origin header, which the intake's cross-site check needs on the POST.
TOKEN_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "strict-origin"}


def page(title: str, body: str) -> str:
    """A whole page around `body` (already-escaped HTML)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)} · Between Sessions</title>
<link rel="stylesheet" href="/theme/css/main.css">
<link rel="stylesheet" href="/theme/css/comments.css">
</head>
<body>
<main id="content" class="intake-page">
<h1>{escape(title)}</h1>
{body}
</main>
</body>
</html>
"""


def back_link(url: str | None, text: str = "Back to the post") -> str:
    if not url:
        return '<p><a href="/">Back to the blog</a></p>'
    return f'<p><a href="{escape(url)}">{escape(text)}</a></p>'


def error_page(message: str, post_url: str | None) -> str:
    """What a refused form post shows: the reason, and the way back to what she typed."""
    return page(
        "Your comment was not sent",
        f'<p role="alert">{escape(message)}</p>'
        "<p>Use your browser's Back button to return to the form; what you typed is "
        "still there.</p>" + back_link(post_url),
    )


def replies_line(subscribed: bool) -> str:
    """What became of a ticked "Email me when someone replies" box (issue 14)."""
    if subscribed:
        return (
            "To get emails about replies, open the link in the email we just sent you and "
            "press its button. Nothing is sent until you do."
        )
    return "Reply emails are not set up on this blog, so none will be sent."


def receipt_page(
    removal_url: str | None, post_url: str, care_note: str = "", replies: str | None = None
) -> str:
    """After a no-JavaScript comment post: the private removal link, shown once (None: the
    cookie is gone), below the note with support resources when the words need care, and
    what became of the reply-mail box if she ticked it."""
    keep = (
        "<p>If you ever want it taken down, keep this private link; it is shown only "
        "once and anyone who has it can remove your comment:</p>"
        f'<p><a href="{escape(removal_url)}">{escape(removal_url)}</a></p>'
        if removal_url
        else ""
    )
    return page(
        "Your comment is awaiting moderation",
        care_note
        + "<p>Thank you. Your comment will appear once it has been approved.</p>"
        + (f'<p class="comment-replies">{escape(replies)}</p>' if replies else "")
        + keep
        + back_link(post_url),
    )


def no_receipt_page() -> str:
    """The receipt asked for a second time (or with cookies off)."""
    return page(
        "Nothing to show",
        "<p>The private removal link is shown only once, right after you post a comment.</p>"
        + back_link(None),
    )


def confirm_removal_page(action: str, token: str) -> str:
    """The confirmation step of a removal link: a button, so a link preview removes nothing."""
    return page(
        "Remove your comment?",
        "<p>This asks for your comment to be taken down. It disappears from the blog at the "
        "author's next update.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        '<button type="submit">Remove my comment</button></form>' + back_link(None),
    )


def removal_queued_page() -> str:
    """What a reader sees once her removal request is stored."""
    return page(
        "Your comment will be removed",
        "<p>Your request is saved. The comment disappears from the blog at the author's "
        "next update.</p>" + back_link(None),
    )
