"""Who is told what, by mail (issue 14): the messages, and when they are queued.

- A comment whose words need care: mailed to the author at once, with its full text and
  the commenter's email, so she can reach out personally if she chooses
  (`announce_care`, called by the intake in the transaction that stores the comment).
- Every other waiting comment: in a digest, at most one every NOTIFY["DIGEST_MINUTES"]
  (`queue_digest_if_due`, called by the intake's mail sender).

Messages are queued in the outbox (`moderation.outbox`) and sent by `moderation.mail`.
Nothing is queued while mail is off (no BETWEEN_SESSIONS_SMTP_URL) or, for the author's
mail, while no author address is set: a queue nobody sends is private data kept for
nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from moderation import outbox
from moderation.inbox import NewComment
from moderation.mail import SMTP_URL_ENV, SmtpSettings
from moderation.settings import NotifyOptions, ProjectSettings

# What the author types to review what waits.
MODERATE_COMMAND = "invoke moderate"
# How much of a comment a digest entry quotes.
DIGEST_LINES = 3
DIGEST_CHARACTERS = 300


@dataclass(frozen=True)
class Notifier:
    """Whether mail is on, where the author's goes, and who sends it."""

    options: NotifyOptions
    smtp: SmtpSettings | None
    # Where the links in readers' mail point (NOTIFY["INTAKE_URL"] or SITEURL), or None.
    link_base: str | None = None

    @classmethod
    def from_settings(
        cls, settings: ProjectSettings, environ: Mapping[str, str] = os.environ
    ) -> Notifier:
        base = (settings.notify.intake_url or settings.site_url or "").rstrip("/")
        return cls(settings.notify, SmtpSettings.from_environment(environ), base or None)

    @property
    def readers_mail_on(self) -> bool:
        """Whether readers can be mailed: SMTP is set, and links in the mail can be made
        without guessing the blog's address from a request."""
        return self.smtp is not None and self.link_base is not None

    @property
    def author_address(self) -> str | None:
        """The author's address when her mail can be sent, else None."""
        return self.options.author_email if self.smtp is not None else None


def offers_reply_mail(options: NotifyOptions, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the built form shows the reply-mail box: NOTIFY["REPLY_BOX"], or else
    whether mail is on where the site is built. Without mail a ticked box could only be
    answered "not set up", after the reader has already trusted it."""
    if options.reply_box is not None:
        return options.reply_box
    return bool(environ.get(SMTP_URL_ENV, "").strip())


def compose(sender: str, recipient: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message with the headers every mail of the blog has."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


def announce_care(
    connection: sqlite3.Connection,
    notifier: Notifier,
    comment_id: str,
    comment: NewComment,
    post_title: str,
) -> bool:
    """Queue the author's mail about a comment that needs care (call inside the transaction
    that stores it); False when her mail is off."""
    recipient = notifier.author_address
    if recipient is None:
        return False
    text = (
        f"{comment.author} <{comment.email}> commented on “{post_title}”, and the words "
        "touch on self-harm or suicide. The comment is held: nothing is published until "
        "you have read it.\n\n"
        f"If you choose to reach out to her personally, her address is {comment.email}.\n\n"
        f"Her comment, in full:\n\n{comment.body}\n\n"
        f"Post: {comment.permalink}\n"
        f"Comment: {comment_id}\n\n"
        f"To review it, run: {MODERATE_COMMAND}\n"
    )
    message = compose(
        notifier.options.sender, recipient, f"A comment that needs care on “{post_title}”", text
    )
    outbox.enqueue(connection, "care", recipient, message.as_string())
    outbox.mark_announced(connection, [comment_id])
    return True


def first_lines(body: str) -> str:
    """The opening of a comment, for a digest: its first few lines, cut short if long."""
    lines = [line for line in body.strip().splitlines() if line.strip()][:DIGEST_LINES]
    opening = "\n".join(lines)
    if len(opening) > DIGEST_CHARACTERS:
        return opening[:DIGEST_CHARACTERS].rstrip() + "…"
    if opening != body.strip():
        return opening + "\n…"
    return opening


def queue_digest_if_due(
    connection: sqlite3.Connection,
    notifier: Notifier,
    title_of: Callable[[str], str],
    now: datetime | None = None,
) -> int:
    """Queue one digest of the waiting comments nobody has told the author about, unless
    the last one is younger than DIGEST_MINUTES (call inside a transaction); returns how
    many comments it lists."""
    recipient = notifier.author_address
    if recipient is None:
        return 0
    now = now or datetime.now(UTC)
    last = outbox.last_queued(connection, "digest")
    interval = timedelta(minutes=notifier.options.digest_minutes)
    if last is not None and now - datetime.fromisoformat(last) < interval:
        return 0
    comments = outbox.unannounced_waiting(connection)
    if not comments:
        return 0
    entries = []
    for comment in comments:
        quoted = "\n".join(f"    {line}" for line in first_lines(comment["body"]).splitlines())
        entries.append(f"“{title_of(comment['post_slug'])}”, from {comment['author']}:\n{quoted}")
    count = f"{len(comments)} comment{'s' if len(comments) != 1 else ''}"
    text = (
        f"{count} wait{'s' if len(comments) == 1 else ''} for your review.\n\n"
        + "\n\n".join(entries)
        + f"\n\nTo review them, run: {MODERATE_COMMAND}\n"
    )
    message = compose(notifier.options.sender, recipient, f"{count} waiting for you", text)
    outbox.enqueue(connection, "digest", recipient, message.as_string())
    outbox.mark_announced(connection, [comment["id"] for comment in comments])
    return len(comments)
