"""The author's reply, written in the review (issue 14): stored in the inbox as an approved
comment under the one she answers, with `author_role: author` (the Author badge), and
published by the same run. The comment she answers is approved with it.

In a remote run (`invoke moderate --inbox URL`) the reply is made in the laptop's copy of
the inbox and sent to the intake as an "author_reply" change, which stores it there with
the same id and time (moderation.intake.admin), so the server mails it to the readers
waiting for replies, as it does any reply it is told is published."""

from __future__ import annotations

import sqlite3

from moderation import inbox


def add_author_reply(
    connection: sqlite3.Connection,
    parent: sqlite3.Row,
    author_name: str,
    body: str,
    reply_id: str | None = None,
    created_at: str | None = None,
) -> str:
    """Store the author's reply to `parent`, approved (call inside a transaction); returns
    the reply's id. It carries no email, IP or user agent. `reply_id` and `created_at`:
    those of a reply already made in a remote run's copy."""
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
        reply_id,
        created_at,
    )
    connection.execute("UPDATE comments SET author_role = 'author' WHERE id = ?", (reply_id,))
    inbox.decide(connection, reply_id, inbox.Status.APPROVED, "author", ["the author's reply"])
    return reply_id
