"""Atom feeds of comments: one per post, one of the latest comments site-wide."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape as escape_html

from .rendering import NOT_IN_XML
from .threads import Comment

ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'


def escape(text: str, quote: bool = True) -> str:
    """`text` escaped for XML, with characters XML cannot carry dropped."""
    return escape_html(NOT_IN_XML.sub("", text), quote=quote)


def feed_entries(comments: Iterable[Comment], post_title: str, post_url: str) -> list[str]:
    """Each of `comments`, on the post titled `post_title` at the absolute `post_url`, as an
    entry (the post's title and URL escaped once, not once a comment)."""
    title, url = escape(post_title), escape(post_url)
    entries = []
    for comment in comments:
        # An id is letters, digits and "._-" (comment_file.ID_PATTERN): nothing to escape.
        link = f"{url}#comment-{comment.file.id}"
        author = escape(comment.file.author)
        date = comment.file.date.isoformat()
        entries.append(
            f"<entry><title>{author} on {title}</title>"
            f'<link href="{link}" rel="alternate"/><id>{link}</id>'
            f"<published>{date}</published><updated>{date}</updated>"
            f"<author><name>{author}</name></author>"
            # The body as rendering made it, which holds nothing XML refuses.
            f'<content type="html">{escape_html(comment.content, quote=False)}</content>'
            "</entry>"
        )
    return entries


def atom_feed(
    title: str, page_url: str, feed_url: str, updated: datetime, entries: list[str]
) -> str:
    """An Atom document of `entries` (from feed_entry, in the order given); `updated` is its
    newest date."""
    return (
        f"{ATOM_HEAD}<title>{escape(title)}</title>"
        f'<link href="{escape(page_url)}" rel="alternate"/>'
        f'<link href="{escape(feed_url)}" rel="self"/>'
        f"<id>{escape(feed_url)}</id><updated>{updated.isoformat()}</updated>"
        f"{''.join(entries)}</feed>\n"
    )
