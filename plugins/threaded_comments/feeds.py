"""Atom feeds of comments: one per post, one of the latest comments site-wide."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from .reader import Comment

ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'


def _entry(comment: Comment, post_title: str, post_url: str) -> str:
    link = f"{post_url}#comment-{comment.id}"
    return (
        f"<entry><title>{escape(f'{comment.author} on {post_title}')}</title>"
        f'<link href={quoteattr(link)} rel="alternate"/>'
        f"<id>{escape(link)}</id>"
        f"<published>{comment.date.isoformat()}</published>"
        f"<updated>{comment.date.isoformat()}</updated>"
        f"<author><name>{escape(comment.author)}</name></author>"
        f'<content type="html">{escape(comment.content)}</content></entry>'
    )


def atom_feed(
    title: str,
    page_url: str,
    feed_url: str,
    entries: list[tuple[Comment, str, str]],
    fallback_updated: datetime,
) -> str:
    """An Atom document; `entries` are (comment, post title, absolute post URL), newest first.

    `fallback_updated` dates a feed with no entries (the post's own date).
    """
    parts = [_entry(comment, post_title, post_url) for comment, post_title, post_url in entries]
    updated = max((comment.date for comment, _, _ in entries), default=fallback_updated)
    return (
        f"{ATOM_HEAD}<title>{escape(title)}</title>"
        f'<link href={quoteattr(page_url)} rel="alternate"/>'
        f'<link href={quoteattr(feed_url)} rel="self"/>'
        f"<id>{escape(feed_url)}</id><updated>{updated.isoformat()}</updated>"
        f"{''.join(parts)}</feed>\n"
    )
