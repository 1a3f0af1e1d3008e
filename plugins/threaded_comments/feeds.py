"""Atom feeds of comments: one per post, one of the latest comments site-wide."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape as escape_html

from .threads import Comment

ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
# Characters XML 1.0 cannot carry, even escaped: one of them makes the whole feed invalid,
# whatever a hand-written or imported comment file holds.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str, quote: bool = True) -> str:
    """`text` escaped for XML, with characters XML cannot carry dropped."""
    return escape_html(NOT_IN_XML.sub("", text), quote=quote)


def feed_entry(comment: Comment, post_title: str, post_url: str) -> str:
    """`comment`, on the post titled `post_title` at the absolute `post_url`, as an entry."""
    link = escape(f"{post_url}#comment-{comment.file.id}")
    author = escape(comment.file.author)
    date = comment.file.date.isoformat()
    return (
        f"<entry><title>{author} on {escape(post_title)}</title>"
        f'<link href="{link}" rel="alternate"/><id>{link}</id>'
        f"<published>{date}</published><updated>{date}</updated>"
        f"<author><name>{author}</name></author>"
        f'<content type="html">{escape(comment.content, quote=False)}</content></entry>'
    )


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
