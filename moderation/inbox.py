"""The private inbox: one SQLite file with every comment a reader sent, the context spam
checking needs (IP, user agent, referrer), likes, removal requests and the decision log.

Nothing in here is ever published as it is: `moderation.pipeline.publish` copies the public fields
of approved comments into `content/comments/`. The file lives outside git (see .gitignore).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    """Where a comment stands. Only `approved` comments are published."""

    PENDING = "pending"  # received, not yet checked
    HELD = "held"  # checked; waits for the author's review
    APPROVED = "approved"  # to be published (or already published: see published_at)
    SPAM = "spam"
    DISCARDED = "discarded"  # blatant spam (Akismet's "discard"): never shown, not even for review
    DELETED = "deleted"  # the author deleted it in review
    REMOVED = "removed"  # the reader asked for its removal, and it was carried out


# Each entry moves the schema one version up; PRAGMA user_version records how far a file is.
# Append new migrations; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        post_slug TEXT NOT NULL,
        parent_id TEXT,
        author TEXT NOT NULL,
        email TEXT,
        website TEXT,
        body TEXT NOT NULL,
        ip TEXT,
        user_agent TEXT,
        referrer TEXT,
        permalink TEXT NOT NULL,
        created_at TEXT NOT NULL,
        honeypot INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        reasons TEXT NOT NULL DEFAULT '[]',
        needs_care INTEGER NOT NULL DEFAULT 0,
        akismet_verdict TEXT,
        decided_at TEXT,
        decided_by TEXT,
        published_at TEXT,
        removal_token_hash TEXT,
        removal_requested_at TEXT,
        purged_at TEXT
    );
    CREATE INDEX comments_status ON comments (status);
    CREATE INDEX comments_post ON comments (post_slug);
    CREATE TABLE likes (
        comment_id TEXT NOT NULL,
        post_slug TEXT NOT NULL,
        reader_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (comment_id, reader_hash)
    );
    CREATE INDEX likes_post ON likes (post_slug);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id TEXT NOT NULL,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX decisions_comment ON decisions (comment_id);
    CREATE TABLE folded_likes (
        comment_id TEXT PRIMARY KEY,
        post_slug TEXT NOT NULL,
        count INTEGER NOT NULL
    );
    CREATE TABLE like_salts (
        period TEXT PRIMARY KEY,
        salt TEXT NOT NULL
    );
    """,
    # 2 (moderation): the file's own likes apart from inbox likes (e.g. an imported
    # WordPress count), recorded before the file is first rewritten, so that writing
    # `likes: base + count` is idempotent and a publish killed midway never counts twice.
    """
    ALTER TABLE folded_likes ADD COLUMN base INTEGER NOT NULL DEFAULT 0;
    """,
    # 3 (pelican-comment-system's files): a comment id is unique within its post only
    # (two posts may each have a `0.md`), so likes and their folding are keyed by
    # (post, comment id). SQLite cannot change a primary key: the tables are rebuilt.
    """
    CREATE TABLE likes_by_post (
        post_slug TEXT NOT NULL,
        comment_id TEXT NOT NULL,
        reader_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (post_slug, comment_id, reader_hash)
    );
    INSERT INTO likes_by_post (post_slug, comment_id, reader_hash, created_at)
        SELECT post_slug, comment_id, reader_hash, created_at FROM likes;
    DROP TABLE likes;
    ALTER TABLE likes_by_post RENAME TO likes;
    CREATE TABLE folded_likes_by_post (
        post_slug TEXT NOT NULL,
        comment_id TEXT NOT NULL,
        count INTEGER NOT NULL,
        base INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (post_slug, comment_id)
    );
    INSERT INTO folded_likes_by_post (post_slug, comment_id, count, base)
        SELECT post_slug, comment_id, count, base FROM folded_likes;
    DROP TABLE folded_likes;
    ALTER TABLE folded_likes_by_post RENAME TO folded_likes;
    """,
    # 4 (issue 14, mail): the outbox, whole messages waiting to be sent, claimed by one
    # sender at a time (moderation.outbox owns its queries, moderation.mail sends), and when
    # a comment was announced to the author (at once when it needs care, else in a digest).
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        claimed_at TEXT,
        sent_at TEXT,
        failed_at TEXT,
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE claimed_at IS NULL;
    CREATE INDEX outbox_kind ON outbox (kind, created_at);
    ALTER TABLE comments ADD COLUMN announced_at TEXT;
    """,
    # 5 (issue 14, replies by mail): a reader's wish to hear of replies to her comment,
    # confirmed by a POST from the link in one mail (double opt-in); the tokens of those
    # links and of each reply mail's unsubscribe link, stored only as hashes; and the day
    # an address last got a confirmation mail (at most one a day), by a hash of it.
    """
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        post_slug TEXT NOT NULL,
        comment_id TEXT NOT NULL,
        email TEXT NOT NULL,
        confirm_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        confirmed_at TEXT
    );
    CREATE INDEX subscriptions_comment ON subscriptions (post_slug, comment_id);
    CREATE INDEX subscriptions_email ON subscriptions (email);
    CREATE TABLE unsubscribe_tokens (
        token_hash TEXT PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE
    );
    CREATE TABLE confirmation_mails (
        address_hash TEXT PRIMARY KEY,
        day TEXT NOT NULL
    );
    """,
    # 6 (issue 14, HOLD_FIRST_COMMENT): commenters with an approved comment, by a hash of
    # the address, which outlives the purge of the address itself (moderation.commenters).
    """
    CREATE TABLE known_commenters (
        address_hash TEXT PRIMARY KEY,
        since TEXT NOT NULL
    );
    """,
    # 7 (issue 14, the author's reply from the review): 'author' marks the blog author's
    # own comment, published with `author_role: author` (moderation.author_replies).
    """
    ALTER TABLE comments ADD COLUMN author_role TEXT;
    """,
    # 8 (issue 15): the intake's rate limits, so that restarting it does not clear them.
    # `kind` names the limit (moderation.intake.ratelimit); `key_digest` is a hash of what
    # is limited (an address, a comment), never the address itself; `at` is in seconds since
    # the epoch. A row outlives its limit's window only until the intake next starts or purges.
    """
    CREATE TABLE rate_events (
        kind TEXT NOT NULL,
        key_digest TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX rate_events_kind_at ON rate_events (kind, at);
    """,
    # 9 (issue 14, session 5): a subscription confirmed by the button of its own mail, not
    # along with another (its address proven for its comment's private link, which then
    # lists the address's other subscriptions: moderation.subscriptions.shown_to_writer),
    # with an index for finding an address's subscriptions in any case;
    # and each outbox message's one Message-ID, the same on every try (moderation.mail).
    """
    ALTER TABLE subscriptions ADD COLUMN confirmed_from_its_mail INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX subscriptions_address ON subscriptions (lower(email));
    ALTER TABLE outbox ADD COLUMN message_id_header TEXT;
    """,
)


def utc_now() -> str:
    """The current time as the inbox stores times: ISO 8601, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_comment_id() -> str:
    """A fresh comment id: sortable by time, unguessable in its tail, safe as a file name."""
    return f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if need be) the inbox at `path`, in WAL mode, at the latest schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute("PRAGMA foreign_keys=ON")
    migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the migrations this file has not had yet; returns the schema version now."""
    with transaction(connection):
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"the inbox has schema version {version}, newer than this code knows "
                f"({len(MIGRATIONS)}); update Between Sessions before using it"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version={number}")
    return len(MIGRATIONS)


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), committed or rolled back whole."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@dataclass(frozen=True)
class NewComment:
    """What the intake hands the inbox: the reader's fields and the request's context."""

    post_slug: str
    author: str
    email: str
    body: str
    permalink: str
    parent_id: str | None = None
    website: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    honeypot: bool = False
    removal_token_hash: str | None = None


def add_comment(connection: sqlite3.Connection, comment: NewComment) -> str:
    """Store a new comment as `pending` and commit; returns its id once it is on disk."""
    with transaction(connection):
        return insert_comment(connection, comment)


def insert_comment(
    connection: sqlite3.Connection,
    comment: NewComment,
    comment_id: str | None = None,
    created_at: str | None = None,
) -> str:
    """Insert a new `pending` comment inside the caller's transaction; returns its id.

    The intake's group commit calls this for many comments in one transaction. `comment_id`
    and `created_at` are given only for a comment made elsewhere: the author's reply,
    written on her laptop in a remote run (moderation.author_replies).
    """
    comment_id = comment_id or new_comment_id()
    connection.execute(
        """INSERT INTO comments (id, post_slug, parent_id, author, email, website, body, ip,
               user_agent, referrer, permalink, created_at, honeypot, removal_token_hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            comment_id,
            comment.post_slug,
            comment.parent_id,
            comment.author,
            comment.email,
            comment.website,
            comment.body,
            comment.ip,
            comment.user_agent,
            comment.referrer,
            comment.permalink,
            created_at or utc_now(),
            int(comment.honeypot),
            comment.removal_token_hash,
        ),
    )
    return comment_id


def log_decision(
    connection: sqlite3.Connection, comment_id: str, action: str, actor: str, reason: str = ""
) -> None:
    """Append to the decision log (call inside the transaction that makes the decision)."""
    connection.execute(
        "INSERT INTO decisions (comment_id, at, action, actor, reason) VALUES (?, ?, ?, ?, ?)",
        (comment_id, utc_now(), action, actor, reason),
    )


def count_waiting(connection: sqlite3.Connection) -> int:
    """How many comments wait for the pipeline or the author (pending or held)."""
    return connection.execute(
        "SELECT COUNT(*) FROM comments WHERE status IN (?, ?)",
        (str(Status.PENDING), str(Status.HELD)),
    ).fetchone()[0]


# --- Intake: likes and removal requests (used by moderation.intake) ---
# A like names its comment by (post slug, comment id): ids are unique within a post only.


class RemovalRequest(StrEnum):
    """What became of a reader's request to remove her comment."""

    QUEUED = "queued"
    ALREADY_QUEUED = "already-queued"
    UNKNOWN = "unknown"  # no comment with that id in this inbox
    REFUSED = "refused"  # the token does not belong to that comment


def hash_token(token: str) -> str:
    """The form a removal token is stored in: the token itself never reaches the disk."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_removal(connection: sqlite3.Connection, comment_id: str, token: str) -> RemovalRequest:
    """Queue a comment's removal if `token` is its own (call inside a transaction).

    `invoke moderate` carries the removal out, before or after the comment was published.
    """
    row = connection.execute(
        "SELECT removal_token_hash, removal_requested_at FROM comments WHERE id = ?",
        (comment_id,),
    ).fetchone()
    if row is None:
        return RemovalRequest.UNKNOWN
    stored = row["removal_token_hash"]
    if not stored or not hmac.compare_digest(stored, hash_token(token)):
        return RemovalRequest.REFUSED
    if row["removal_requested_at"]:
        return RemovalRequest.ALREADY_QUEUED
    connection.execute(
        "UPDATE comments SET removal_requested_at = ? WHERE id = ?", (utc_now(), comment_id)
    )
    log_decision(connection, comment_id, "removal-requested", "reader")
    return RemovalRequest.QUEUED


def like_salt(connection: sqlite3.Connection, period: str) -> str:
    """The salt for reader hashes in `period`, made on first use (call inside a transaction).

    Older salts are deleted at once: without them a stored hash can no longer be matched
    to an address, which is the point of rotating.
    """
    row = connection.execute("SELECT salt FROM like_salts WHERE period = ?", (period,)).fetchone()
    if row is not None:
        return row["salt"]
    salt = secrets.token_hex(16)
    connection.execute("INSERT INTO like_salts (period, salt) VALUES (?, ?)", (period, salt))
    connection.execute("DELETE FROM like_salts WHERE period != ?", (period,))
    return salt


def add_like(
    connection: sqlite3.Connection, post_slug: str, comment_id: str, reader_hash: str
) -> bool:
    """Record one reader's like of a post's comment; False if she had already liked it."""
    cursor = connection.execute(
        """INSERT OR IGNORE INTO likes (post_slug, comment_id, reader_hash, created_at)
           VALUES (?, ?, ?, ?)""",
        (post_slug, comment_id, reader_hash, utc_now()),
    )
    return cursor.rowcount == 1


def unfolded_likes(connection: sqlite3.Connection, post_slug: str) -> dict[str, int]:
    """Inbox likes per comment of a post that its published file does not include yet."""
    rows = connection.execute(
        """SELECT l.comment_id, COUNT(*) - COALESCE(MAX(f.count), 0) AS fresh
           FROM likes AS l LEFT JOIN folded_likes AS f
               ON f.post_slug = l.post_slug AND f.comment_id = l.comment_id
           WHERE l.post_slug = ? GROUP BY l.comment_id""",
        (post_slug,),
    ).fetchall()
    return {row["comment_id"]: max(row["fresh"], 0) for row in rows}


# --- Moderation: verdicts, publishing state, purge and the log (used by `invoke moderate`) ---

# Statuses that are final decisions: the purge clock starts when one of them is reached.
FINAL_STATUSES = (
    Status.APPROVED,
    Status.SPAM,
    Status.DISCARDED,
    Status.DELETED,
    Status.REMOVED,
)


def comments_with_status(connection: sqlite3.Connection, *statuses: Status) -> list[sqlite3.Row]:
    """Comments in any of `statuses`, needs-care first, then oldest first."""
    marks = ", ".join("?" for _ in statuses)
    return connection.execute(
        f"SELECT * FROM comments WHERE status IN ({marks})"  # noqa: S608 - only placeholders
        " ORDER BY needs_care DESC, created_at, id",
        [str(status) for status in statuses],
    ).fetchall()


def get_comment(connection: sqlite3.Connection, comment_id: str) -> sqlite3.Row | None:
    """One comment by id, or None."""
    return connection.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)).fetchone()


def has_approved_comment_from(connection: sqlite3.Connection, email: str) -> bool:
    """True if an earlier comment from `email` (any case) was approved and is still public."""
    row = connection.execute(
        "SELECT 1 FROM comments WHERE lower(email) = lower(?) AND status = ? LIMIT 1",
        (email, str(Status.APPROVED)),
    ).fetchone()
    return row is not None


class StaleDecisionError(Exception):
    """A decision made on a comment whose status changed since it was read: refused."""

    def __init__(self, comment_id: str, expected: Status, current: str | None) -> None:
        now = f"is {current}" if current else "no longer exists"
        super().__init__(f"comment {comment_id} was {expected} when read and {now} now")
        self.comment_id = comment_id
        self.expected = expected
        self.current = current


def stale_decision(
    connection: sqlite3.Connection, comment_id: str, expected: Status
) -> StaleDecisionError:
    """The refusal of a change made on `expected`, naming the comment's status now."""
    row = connection.execute("SELECT status FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return StaleDecisionError(comment_id, expected, row["status"] if row else None)


def decide(
    connection: sqlite3.Connection,
    comment_id: str,
    status: Status,
    actor: str,
    reasons: list[str],
    *,
    expected: Status | None = None,
    needs_care: bool | None = None,
    akismet_verdict: str | None = None,
) -> None:
    """Move a comment to `status`, store why, and log it (call inside a transaction).

    With `expected`, the status the decider read: the comment changes only if it still
    has it, else StaleDecisionError (two runs, or the author and a late Akismet verdict,
    never overwrite each other). `needs_care` and `akismet_verdict` are left as they are
    when None.
    """
    changed = connection.execute(
        """UPDATE comments SET status = ?, reasons = ?, decided_by = ?,
               decided_at = CASE WHEN ? THEN ? ELSE decided_at END,
               needs_care = COALESCE(?, needs_care),
               akismet_verdict = COALESCE(?, akismet_verdict)
           WHERE id = ? AND (? IS NULL OR status = ?)""",
        (
            str(status),
            json.dumps(reasons),
            actor,
            status in FINAL_STATUSES,
            utc_now(),
            None if needs_care is None else int(needs_care),
            akismet_verdict,
            comment_id,
            expected and str(expected),
            expected and str(expected),
        ),
    ).rowcount
    if expected is not None and not changed:
        raise stale_decision(connection, comment_id, expected)
    log_decision(connection, comment_id, str(status), actor, "; ".join(reasons))


def set_reasons(
    connection: sqlite3.Connection,
    comment_id: str,
    reasons: list[str],
    *,
    expected: Status | None = None,
) -> None:
    """Replace a comment's reasons without deciding anything (e.g. why it is still pending).

    With `expected`, only if the comment still has that status, else StaleDecisionError.
    """
    changed = connection.execute(
        "UPDATE comments SET reasons = ? WHERE id = ? AND (? IS NULL OR status = ?)",
        (json.dumps(reasons), comment_id, expected and str(expected), expected and str(expected)),
    ).rowcount
    if expected is not None and not changed:
        raise stale_decision(connection, comment_id, expected)


def set_body(connection: sqlite3.Connection, comment_id: str, body: str, actor: str) -> None:
    """Replace a comment's text (the author's edit in review) and log it."""
    connection.execute("UPDATE comments SET body = ? WHERE id = ?", (body, comment_id))
    log_decision(connection, comment_id, "edited", actor)


def mark_published(connection: sqlite3.Connection, comment_id: str) -> None:
    """Record that the comment's file is written."""
    connection.execute("UPDATE comments SET published_at = ? WHERE id = ?", (utc_now(), comment_id))
    log_decision(connection, comment_id, "published", "publish")


def removals_to_carry_out(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    """Comments a reader asked to remove whose removal is not done yet."""
    return connection.execute(
        "SELECT * FROM comments WHERE removal_requested_at IS NOT NULL AND status != ?"
        " ORDER BY removal_requested_at",
        (str(Status.REMOVED),),
    ).fetchall()


def mark_removed(connection: sqlite3.Connection, comment_id: str) -> None:
    """The reader's removal is done: drop her words and private details, keep the log."""
    connection.execute(
        """UPDATE comments SET status = ?, body = '', email = NULL, ip = NULL,
               user_agent = NULL, referrer = NULL, decided_at = ?, decided_by = 'reader',
               purged_at = ?
           WHERE id = ?""",
        (str(Status.REMOVED), utc_now(), utc_now(), comment_id),
    )
    log_decision(connection, comment_id, str(Status.REMOVED), "reader", "removal requested")


def purge_private_details(connection: sqlite3.Connection, decided_before: str) -> int:
    """Forget email, IP, user agent and referrer of comments decided before the given time,
    and of comments still undecided (pending, held) that arrived before it: a comment
    nobody decides on must not keep its writer's details for ever (issue 12). The text
    stays, so a held comment can still be reviewed.

    Returns how many comments were purged (call inside a transaction).
    """
    final = [str(status) for status in FINAL_STATUSES]
    marks = ", ".join("?" for _ in final)
    cursor = connection.execute(
        f"""UPDATE comments SET email = NULL, ip = NULL, user_agent = NULL, referrer = NULL,
               purged_at = ?
           WHERE purged_at IS NULL AND CASE WHEN status IN ({marks})
               THEN decided_at IS NOT NULL AND decided_at < ?
               ELSE created_at < ? END""",  # noqa: S608 - only placeholders
        [utc_now(), *final, decided_before, decided_before],
    )
    return cursor.rowcount


def like_counts(connection: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Inbox likes per (post slug, comment id): how many readers liked it."""
    rows = connection.execute(
        "SELECT post_slug, comment_id, COUNT(*) AS n FROM likes GROUP BY post_slug, comment_id"
    ).fetchall()
    return {(row["post_slug"], row["comment_id"]): row["n"] for row in rows}


def folded_like_state(
    connection: sqlite3.Connection, post_slug: str, comment_id: str
) -> sqlite3.Row | None:
    """The comment's folded_likes row (count already in its file, and the file's own base)."""
    return connection.execute(
        "SELECT * FROM folded_likes WHERE post_slug = ? AND comment_id = ?",
        (post_slug, comment_id),
    ).fetchone()


def record_like_base(
    connection: sqlite3.Connection, post_slug: str, comment_id: str, base: int
) -> None:
    """Remember the file's own likes before inbox likes are first folded into it."""
    connection.execute(
        "INSERT OR IGNORE INTO folded_likes (post_slug, comment_id, count, base)"
        " VALUES (?, ?, 0, ?)",
        (post_slug, comment_id, base),
    )


def set_folded_count(
    connection: sqlite3.Connection, post_slug: str, comment_id: str, count: int
) -> None:
    """Record that the comment's file now includes `count` inbox likes."""
    connection.execute(
        "UPDATE folded_likes SET count = ? WHERE post_slug = ? AND comment_id = ?",
        (count, post_slug, comment_id),
    )


def decision_log(connection: sqlite3.Connection, limit: int | None = None) -> list[sqlite3.Row]:
    """The decision log, newest last (the last `limit` entries if given)."""
    rows = connection.execute(
        "SELECT d.*, c.post_slug, c.author FROM decisions AS d"
        " LEFT JOIN comments AS c ON c.id = d.comment_id ORDER BY d.id DESC LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    return rows[::-1]


def holds_comment(connection: sqlite3.Connection, comment: NewComment) -> bool:
    """Whether the inbox already has this comment: same post, author, email, parent and
    words (the WordPress import brings held comments over once, however often it runs)."""
    return (
        connection.execute(
            """SELECT 1 FROM comments WHERE post_slug = ? AND author = ? AND email = ?
                   AND parent_id IS ? AND body = ? LIMIT 1""",
            (comment.post_slug, comment.author, comment.email, comment.parent_id, comment.body),
        ).fetchone()
        is not None
    )


def record_rate_event(
    connection: sqlite3.Connection, kind: str, key_digest: str, at: float
) -> None:
    """Count one event against a rate limit (inside the caller's transaction)."""
    connection.execute(
        "INSERT INTO rate_events (kind, key_digest, at) VALUES (?, ?, ?)", (kind, key_digest, at)
    )


def rate_events_since(
    connection: sqlite3.Connection, kind: str, since: float
) -> list[tuple[str, float]]:
    """The events of one limit after `since`, oldest first, as (key digest, time)."""
    return [
        (row["key_digest"], row["at"])
        for row in connection.execute(
            "SELECT key_digest, at FROM rate_events WHERE kind = ? AND at > ? ORDER BY at",
            (kind, since),
        )
    ]


def forget_rate_events(connection: sqlite3.Connection, kind: str, before: float) -> int:
    """Delete one limit's events from before `before` (out of its window); returns how many."""
    return connection.execute(
        "DELETE FROM rate_events WHERE kind = ? AND at <= ?", (kind, before)
    ).rowcount


def comment_with_removal_token(
    connection: sqlite3.Connection, comment_id: str, token: str
) -> sqlite3.Row | None:
    """The comment whose private removal link holds `token`, or None (issue 14: the link
    also shows its writer her reply-mail subscriptions). Compared in constant time."""
    comment = get_comment(connection, comment_id)
    stored = comment["removal_token_hash"] if comment is not None else None
    if not stored or not hmac.compare_digest(stored, hash_token(token)):
        return None
    return comment
