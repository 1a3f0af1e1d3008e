"""Atom feeds of comments: one per post, one of the latest comments site-wide."""

from __future__ import annotations

from datetime import datetime
from html import escape

from .reader import Comment

ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
# Stand-ins for the post's title and URL in entries made before those are known.
POST_TITLE = "\x00title\x00"
POST_URL = "\x00url\x00"
_ESCAPED_POST_TITLE = escape(POST_TITLE)
_ESCAPED_POST_URL = escape(POST_URL)


def entry_xml(comment: Comment, post_title: str = POST_TITLE, post_url: str = POST_URL) -> str:
    """One comment as an Atom <entry>; `post_title` is plain text, `post_url` absolute."""
    # Twenty thousand entries on a big site: each value is escaped once, the stand-ins
    # (the usual case) not at all.
    url = _ESCAPED_POST_URL if post_url is POST_URL else escape(post_url)
    title = _ESCAPED_POST_TITLE if post_title is POST_TITLE else escape(post_title)
    link = f"{url}#comment-{escape(comment.id)}"
    author = escape(comment.author)
    date = comment.date.isoformat()
    return (
        f"<entry><title>{author} on {title}</title>"
        f'<link href="{link}" rel="alternate"/><id>{link}</id>'
        f"<published>{date}</published><updated>{date}</updated>"
        f"<author><name>{author}</name></author>"
        f'<content type="html">{escape(comment.content, quote=False)}</content></entry>'
    )


def post_entries_xml(comments: list[Comment]) -> str:
    """A post's comments as Atom entries, newest first, with stand-ins for its title and URL."""
    newest_first = sorted(comments, key=lambda comment: comment.date, reverse=True)
    return "".join(entry_xml(comment) for comment in newest_first)


def fill_post(entries: str, post_title: str, post_url: str) -> str:
    """post_entries_xml's output with the post's title and URL put in."""
    return entries.replace(POST_TITLE, escape(post_title)).replace(POST_URL, escape(post_url))


def atom_feed(title: str, page_url: str, feed_url: str, updated: datetime, entries: str) -> str:
    """An Atom document around `entries` (XML); `updated` is its newest date."""
    return (
        f"{ATOM_HEAD}<title>{escape(title)}</title>"
        f'<link href="{escape(page_url)}" rel="alternate"/>'
        f'<link href="{escape(feed_url)}" rel="self"/>'
        f"<id>{escape(feed_url)}</id><updated>{updated.isoformat()}</updated>"
        f"{entries}</feed>\n"
    )
