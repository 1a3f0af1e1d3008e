"""The author's reply, written in the review (issue 14): stored in the inbox as an approved
comment under the one she answers, with `author_role: author` (the Author badge), and
published by the same run. The comment she answers is approved with it."""

from __future__ import annotations

import sqlite3

from moderation import inbox


def add_author_reply(
    connection: sqlite3.Connection, parent: sqlite3.Row, author_name: str, body: str
) -> str:
    """Store the author's reply to `parent`, approved, and approve `parent` (call inside a
    transaction); returns the reply's id. It carries no email, IP or user agent."""
    reply_id = inbox.insert_comment(
        connection,
        inbox.NewComment(
            post_slug=parent["post_slug"],
            author=author_name,
            email="",
            body=body,
            permalink=parent["permalink"],
            parent_id=parent["id"],
        ),
    )
    connection.execute("UPDATE comments SET author_role = 'author' WHERE id = ?", (reply_id,))
    inbox.decide(connection, reply_id, inbox.Status.APPROVED, "author", ["the author's reply"])
    return reply_id
