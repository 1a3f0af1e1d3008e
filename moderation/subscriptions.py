"""Readers who want to hear about replies to their comment (issue 14): double opt-in,
reply mail when a reply is published, one-click unsubscribe. Every query on the
subscription tables is here.

- Ticking "Email me when someone replies to my comment" stores an unconfirmed
  subscription and queues one confirmation mail, at most one per address per day
  (`subscribe`). Its link opens a page with a button; only that POST confirms (`confirm`):
  link scanners follow GET links, and they must not confirm for the reader.
- An unconfirmed subscription is forgotten after CONFIRM_DAYS (`expire_unconfirmed`).
- A reply is mailed to the confirmed subscribers of its parent comment only once it is
  published (`queue_reply_mails`, called where the pipeline marks a comment published),
  never to the reply's own writer, and never with anyone else's address in it. Each mail
  has its own unsubscribe token: a List-Unsubscribe header with List-Unsubscribe-Post
  (RFC 8058 one-click) and the same link in the text.
- A comment's private removal link (and the receipt after a no-JavaScript post, which
  shows it) lists its writer's subscriptions and ends them (`shown_to_writer`,
  `end_for_writer`): the one made with that comment; and, once that one is confirmed by
  the button of its own mail, every subscription of the address. The link only proves who wrote the
  comment, and anyone can type any address into the form: the other subscriptions of an
  address are shown only to whoever has shown she reads its mail.
- Unsubscribing deletes the subscription (`unsubscribe`). The inbox's purge of comments
  leaves this table alone: a confirmed subscription keeps its address, and nothing else
  about the reader is kept for it.

Tokens are random, sent only in mail, and stored as hashes (`inbox.hash_token`).
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from moderation import outbox
from moderation.commenters import address_hash
from moderation.inbox import NewComment, hash_token, utc_now
from moderation.notify import Notifier, compose

CONFIRM_DAYS = 7
CONFIRM_PATH = "/api/subscriptions/confirm"
UNSUBSCRIBE_PATH = "/api/subscriptions/unsubscribe"


def link(notifier: Notifier, path: str, token: str) -> str:
    """An absolute link for a reader's mail: from the settings, never from a request."""
    return f"{notifier.link_base}{path}?{urlencode({'token': token})}"


def subscribe(
    connection: sqlite3.Connection,
    notifier: Notifier,
    comment_id: str,
    comment: NewComment,
    post_title: str,
) -> bool:
    """Store an unconfirmed subscription to replies to `comment_id` and queue its
    confirmation mail unless the address had one today (call inside the transaction that
    stores the comment); False when readers cannot be mailed."""
    if not notifier.readers_mail_on:
        return False
    token = secrets.token_urlsafe(24)
    connection.execute(
        "INSERT INTO subscriptions (post_slug, comment_id, email, confirm_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (comment.post_slug, comment_id, comment.email, hash_token(token), utc_now()),
    )
    today = datetime.now(UTC).date().isoformat()
    hashed = address_hash(comment.email)
    sent = connection.execute(
        "SELECT day FROM confirmation_mails WHERE address_hash = ?", (hashed,)
    ).fetchone()
    if sent is not None and sent["day"] == today:
        return True
    connection.execute(
        "INSERT INTO confirmation_mails (address_hash, day) VALUES (?, ?)"
        " ON CONFLICT (address_hash) DO UPDATE SET day = excluded.day",
        (hashed, today),
    )
    text = (
        f"Someone, we hope you, commented as {comment.author} on “{post_title}” and asked "
        "to be emailed when someone replies.\n\n"
        "To confirm, open this link and press the button on the page:\n"
        f"{link(notifier, CONFIRM_PATH, token)}\n\n"
        "If it was not you, ignore this mail: nothing more is sent, and the request is "
        f"forgotten after {CONFIRM_DAYS} days.\n"
    )
    message = compose(
        notifier.options.sender,
        comment.email,
        f"Confirm: replies to your comment on “{post_title}”",
        text,
    )
    outbox.enqueue(connection, "confirm", comment.email, message.as_string())
    return True


def confirm(connection: sqlite3.Connection, token: str) -> int:
    """Confirm the subscription whose link holds `token`, with every other unconfirmed one
    of the same address (call inside a transaction); returns how many are confirmed now,
    0 for a token that is unknown or expired.

    The token is found by its hash: a lookup of a SHA-256 tells a guesser nothing about
    how close a guess came, unlike comparing the token itself character by character.
    """
    row = connection.execute(
        "SELECT * FROM subscriptions WHERE confirm_hash = ?", (hash_token(token),)
    ).fetchone()
    if row is None:
        return 0
    if row["confirmed_at"] is None and row["created_at"] < expiry_cutoff():
        return 0
    # Only this one was confirmed from its own mail: the others of the address go along,
    # but none of them proves the address to its comment's link (shown_to_writer).
    connection.execute(
        "UPDATE subscriptions SET confirmed_from_its_mail = 1, confirmed_at ="
        " COALESCE(confirmed_at, ?) WHERE id = ?",
        (utc_now(), row["id"]),
    )
    others = connection.execute(
        "UPDATE subscriptions SET confirmed_at = ? WHERE lower(email) = lower(?)"
        " AND confirmed_at IS NULL AND created_at >= ?",
        (utc_now(), row["email"], expiry_cutoff()),
    ).rowcount
    return 1 + others


def unsubscribe(connection: sqlite3.Connection, token: str) -> bool:
    """Delete the subscription a reply mail's (or the confirmation's) token belongs to
    (call inside a transaction); False for a token that is unknown."""
    hashed = hash_token(token)
    found = connection.execute(
        "SELECT subscription_id FROM unsubscribe_tokens WHERE token_hash = ?"
        " UNION SELECT id FROM subscriptions WHERE confirm_hash = ?",
        (hashed, hashed),
    ).fetchone()
    if found is None:
        return False
    connection.execute("DELETE FROM subscriptions WHERE id = ?", (found[0],))
    return True


def expiry_cutoff() -> str:
    """Unconfirmed subscriptions made before this are forgotten."""
    return outbox.stamp(datetime.now(UTC) - timedelta(days=CONFIRM_DAYS))


def expire_unconfirmed(connection: sqlite3.Connection) -> int:
    """Forget the unconfirmed subscriptions older than CONFIRM_DAYS (call in a transaction)."""
    return connection.execute(
        "DELETE FROM subscriptions WHERE confirmed_at IS NULL AND created_at < ?",
        (expiry_cutoff(),),
    ).rowcount


def queue_reply_mails(
    connection: sqlite3.Connection, notifier: Notifier, reply: sqlite3.Row, *, held: bool
) -> int:
    """Queue one mail to each confirmed subscriber of the comment `reply` answers, except
    its own writer (call inside the transaction that marks `reply` published); returns how
    many. `held`: the mail waits for `outbox.release_held` (after the site is rebuilt).

    The one function for "a reply is published": `invoke moderate`'s publishing calls it,
    and so must anything else that marks a comment published.
    """
    if not reply["parent_id"] or not notifier.readers_mail_on:
        return 0
    subscribers = connection.execute(
        "SELECT MIN(id) AS id, email FROM subscriptions WHERE post_slug = ? AND comment_id = ?"
        " AND confirmed_at IS NOT NULL AND lower(email) != lower(?) GROUP BY lower(email)",
        (reply["post_slug"], reply["parent_id"], reply["email"] or ""),
    ).fetchall()
    anchor = f"{reply['permalink']}#comment-{reply['id']}"
    for subscriber in subscribers:
        token = secrets.token_urlsafe(24)
        connection.execute(
            "INSERT INTO unsubscribe_tokens (token_hash, subscription_id) VALUES (?, ?)",
            (hash_token(token), subscriber["id"]),
        )
        unsubscribe_url = link(notifier, UNSUBSCRIBE_PATH, token)
        text = (
            f"{reply['author']} replied to your comment:\n\n{reply['body']}\n\n"
            f"Read it on the blog: {anchor}\n\n"
            "You get this because you asked to hear about replies to your comment. "
            f"To stop, open: {unsubscribe_url}\n"
        )
        message = compose(
            notifier.options.sender,
            subscriber["email"],
            f"{reply['author']} replied to your comment",
            text,
        )
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        outbox.enqueue(connection, "reply", subscriber["email"], message.as_string(), held=held)
    return len(subscribers)


def shown_to_writer(connection: sqlite3.Connection, comment: sqlite3.Row) -> list[sqlite3.Row]:
    """The subscriptions the holder of `comment`'s private link may see and end (see the
    module's docstring), oldest first; none once the purge has forgotten the address."""
    if not comment["email"]:
        return []
    own = connection.execute(
        "SELECT * FROM subscriptions WHERE post_slug = ? AND comment_id = ?"
        " AND lower(email) = lower(?) ORDER BY id",
        (comment["post_slug"], comment["id"], comment["email"]),
    ).fetchall()
    if not any(row["confirmed_from_its_mail"] for row in own):
        return own
    return connection.execute(
        "SELECT * FROM subscriptions WHERE lower(email) = lower(?) ORDER BY created_at, id",
        (comment["email"],),
    ).fetchall()


def end_for_writer(
    connection: sqlite3.Connection, comment: sqlite3.Row, subscription_id: int
) -> bool:
    """Delete one of the subscriptions `shown_to_writer` lists (call inside a transaction);
    False when it is not one of them (or gone already)."""
    if subscription_id not in {row["id"] for row in shown_to_writer(connection, comment)}:
        return False
    connection.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
    return True
