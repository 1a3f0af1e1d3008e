"""Atom feeds of comments: one per post, one of the latest comments site-wide.

Entries are made when comments are read, before the post's title and URL are known, with
stand-ins for both; fill_post puts them in when a feed is written.
"""

from __future__ import annotations

from html import escape

from .cache import FeedEntry
from .reader import Comment

ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
# Stand-ins for the post's title and URL, escaped as they appear in an entry.
POST_TITLE = "\x00title\x00"
POST_URL = "\x00url\x00"


def entry_xml(comment: Comment, date: str) -> str:
    """One comment as an Atom <entry>, with the stand-ins for its post's title and URL;
    `date` is the comment's date in ISO 8601."""
    link = f"{POST_URL}#comment-{escape(comment.id)}"
    author = escape(comment.author)
    return (
        f"<entry><title>{author} on {POST_TITLE}</title>"
        f'<link href="{link}" rel="alternate"/><id>{link}</id>'
        f"<published>{date}</published><updated>{date}</updated>"
        f"<author><name>{author}</name></author>"
        f'<content type="html">{escape(comment.content, quote=False)}</content></entry>'
    )


def post_entries(comments: list[Comment]) -> list[FeedEntry]:
    """A post's comments as feed entries, newest first."""
    newest_first = sorted(comments, key=lambda comment: comment.date, reverse=True)
    entries = []
    for comment in newest_first:
        date = comment.date.isoformat()
        entries.append((comment.date.timestamp(), date, entry_xml(comment, date)))
    return entries


def fill_post(entries: str, post_title: str, post_url: str) -> str:
    """Entries from entry_xml with the post's title (plain text) and URL put in."""
    return entries.replace(POST_TITLE, escape(post_title)).replace(POST_URL, escape(post_url))


def atom_feed(title: str, page_url: str, feed_url: str, updated: str, entries: str) -> str:
    """An Atom document around `entries` (XML); `updated` is its newest date (ISO 8601)."""
    return (
        f"{ATOM_HEAD}<title>{escape(title)}</title>"
        f'<link href="{escape(page_url)}" rel="alternate"/>'
        f'<link href="{escape(feed_url)}" rel="self"/>'
        f"<id>{escape(feed_url)}</id><updated>{updated}</updated>"
        f"{entries}</feed>\n"
    )
