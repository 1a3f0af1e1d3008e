"""The outbox: mail waiting in the inbox to be sent, and every query on it (issue 14).

A message is queued inside the transaction that makes it necessary (a comment stored, a
reply published), so it exists exactly when its cause does. `moderation.mail` sends it;
its module docstring says why a claimed message is never sent twice.

The rows are private (they hold addresses and comment text): once sent, a message's text
is emptied, and the row itself is forgotten with the inbox's purge.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from email.parser import HeaderParser

from moderation.inbox import Status, utc_now

# A batch a sender claims at once; the rest waits for its next pass.
CLAIM_BATCH = 50


def stamp(moment: datetime) -> str:
    """A moment as the inbox stores times (ISO 8601, UTC, to the second)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# A held message's due time: later than any real one, until `release_held` sets it to now.
HELD = "9999-12-31T00:00:00+00:00"


def enqueue(
    connection: sqlite3.Connection, kind: str, recipient: str, message: str, *, held: bool = False
) -> int:
    """Queue one whole message (RFC 5322 text) for `recipient`, due at once or, `held`,
    when released (call inside a transaction); returns its id.

    Its Message-ID (`notify.compose` gives every message one) is kept in the row and sent
    on every try: a retry that delivers a second copy is the same message to a mail program.
    """
    now = utc_now()
    # The headers alone, read as plain text: a structured parse would cost more than the
    # composing did, in a transaction the intake's writer holds. A long one comes folded
    # onto a second line; an id holds no spaces, so unfolding is dropping them.
    header = "".join((HeaderParser().parsestr(message)["Message-ID"] or "").split())
    if not header:
        raise ValueError("a queued message needs a Message-ID (notify.compose gives one)")
    cursor = connection.execute(
        "INSERT INTO outbox"
        " (kind, recipient, message, message_id_header, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (kind, recipient, message, header, now, HELD if held else now),
    )
    return int(cursor.lastrowid or 0)


def release_held(connection: sqlite3.Connection) -> int:
    """Make every held message due now (call inside a transaction): `invoke moderate` does
    it once the rebuilt site shows what the messages link to."""
    return connection.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at = ? AND claimed_at IS NULL",
        (utc_now(), HELD),
    ).rowcount


def claim_due(connection: sqlite3.Connection, now: datetime) -> list[sqlite3.Row]:
    """Claim the messages due by `now` for this sender (call inside a transaction): from
    here on no other sender takes them, even if this one never reports back."""
    due = connection.execute(
        "SELECT * FROM outbox WHERE claimed_at IS NULL AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (stamp(now), CLAIM_BATCH),
    ).fetchall()
    connection.executemany(
        "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
        [(stamp(now), row["id"]) for row in due],
    )
    return [
        connection.execute("SELECT * FROM outbox WHERE id = ?", (row["id"],)).fetchone()
        for row in due
    ]


def mark_sent(connection: sqlite3.Connection, message_id: int) -> None:
    """The server took it: keep only that it went, not what it said."""
    connection.execute(
        "UPDATE outbox SET sent_at = ?, message = '', last_error = NULL WHERE id = ?",
        (utc_now(), message_id),
    )


def put_back(
    connection: sqlite3.Connection, message_id: int, error: str, next_attempt: datetime
) -> None:
    """The server did not take it: release the claim; due again at `next_attempt`."""
    connection.execute(
        "UPDATE outbox SET claimed_at = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?",
        (stamp(next_attempt), error, message_id),
    )


def give_up(connection: sqlite3.Connection, message_id: int, error: str) -> None:
    """The server refused it for good: keep the claim (never tried again) and say why."""
    connection.execute(
        "UPDATE outbox SET failed_at = ?, message = '', last_error = ? WHERE id = ?",
        (utc_now(), error, message_id),
    )


def unfinished_claims(connection: sqlite3.Connection, claimed_before: datetime) -> int:
    """Messages claimed before `claimed_before` with no outcome: a sender stopped while
    sending them. They may have gone out, so they are not sent again."""
    return connection.execute(
        "SELECT COUNT(*) FROM outbox WHERE claimed_at < ? AND sent_at IS NULL"
        " AND failed_at IS NULL",
        (stamp(claimed_before),),
    ).fetchone()[0]


def waiting(connection: sqlite3.Connection) -> int:
    """Messages not sent yet that a sender will still try."""
    return connection.execute("SELECT COUNT(*) FROM outbox WHERE claimed_at IS NULL").fetchone()[0]


def last_queued(connection: sqlite3.Connection, kind: str) -> str | None:
    """When the newest message of `kind` was queued, or None."""
    return connection.execute(
        "SELECT MAX(created_at) FROM outbox WHERE kind = ?", (kind,)
    ).fetchone()[0]


def forget_finished(connection: sqlite3.Connection, before: str) -> int:
    """Delete the claimed messages (sent, failed or never reported) queued before `before`:
    their recipients and words are private. What still waits for a retry stays."""
    return connection.execute(
        "DELETE FROM outbox WHERE created_at < ? AND claimed_at IS NOT NULL", (before,)
    ).rowcount


# --- Announcing comments to the author ---

WAITING = (str(Status.PENDING), str(Status.HELD))


def unannounced_waiting(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    """Comments waiting for the author that no mail has told her about yet, oldest first."""
    return connection.execute(
        "SELECT * FROM comments WHERE status IN (?, ?) AND announced_at IS NULL"
        " ORDER BY created_at, id",
        WAITING,
    ).fetchall()


def mark_announced(connection: sqlite3.Connection, comment_ids: list[str]) -> None:
    """Record that a queued mail tells the author about these comments."""
    now = utc_now()
    connection.executemany(
        "UPDATE comments SET announced_at = ? WHERE id = ?", [(now, cid) for cid in comment_ids]
    )
