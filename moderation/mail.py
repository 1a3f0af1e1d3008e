"""Sending the blog's mail: SMTP through the standard library, from the inbox's outbox.

SMTP is configured by the environment, since it holds a password:

- BETWEEN_SESSIONS_SMTP_URL: `smtp://[user[:password]@]host[:587]` (STARTTLS, always) or
  `smtps://[user[:password]@]host[:465]` (TLS from the first byte);
- BETWEEN_SESSIONS_SMTP_PASSWORD: the password, when it is not in the URL.

Without a URL nothing is queued and nothing is sent (`invoke moderate` and the intake say
so once). Certificates are checked against the system's trust store (SSL_CERT_FILE
points Python at another one).

Delivery: what is at most once, and what is at least once. A sender first claims a batch
of due messages in one transaction (`outbox.claim_due`), then sends them, then records each
outcome.

- At most once, when the sender stops: a sender killed between sending and recording
  leaves its claim in place, and a claimed message is never sent again (it may have gone
  out). `invoke moderate` reports such messages.
- At least once, when the server's answer is lost: a refused connection, a 4xx, or a
  connection that drops or times out puts the message back, due again after a backoff
  (a 5xx refusal, or `MAX_ATTEMPTS` tries, gives up). If the drop came after the server
  took the whole message but before its "250" reached us, the retry delivers it a second
  time. Every try carries the same Message-ID, kept in the outbox row since the message
  was queued, so mail programs show the two copies as one message.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import smtplib
import socket
import sqlite3
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from moderation import inbox, outbox

log = logging.getLogger(__name__)

SMTP_URL_ENV = "BETWEEN_SESSIONS_SMTP_URL"
SMTP_PASSWORD_ENV = "BETWEEN_SESSIONS_SMTP_PASSWORD"  # noqa: S105 - a variable's name
NO_SMTP_MESSAGE = (
    f"Mail is off: {SMTP_URL_ENV} is not set, so no notification is queued or sent "
    "(see README, Mail)."
)
TIMEOUT_SECONDS = 20.0
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
# A claim older than this with no outcome was left by a sender that stopped mid-send.
CLAIM_LEASE = timedelta(minutes=10)
ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes: a host, a port, whether TLS starts at once, and a login if any."""

    host: str
    port: int
    implicit_tls: bool
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SmtpSettings | None:
        """The settings the environment gives, None when mail is off; ValueError for a URL
        that is not smtp:// or smtps:// with a host."""
        url = environ.get(SMTP_URL_ENV, "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"{SMTP_URL_ENV} must look like smtp://host:587 or smtps://host:465"
                f" (scheme {parts.scheme!r}, host {parts.hostname!r})"
            )
        implicit_tls = parts.scheme == "smtps"
        password = unquote(parts.password) if parts.password else environ.get(SMTP_PASSWORD_ENV)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 587),
            implicit_tls=implicit_tls,
            user=unquote(parts.username) if parts.username else None,
            password=password or None,
        )


def open_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    """A logged-in SMTP session over TLS (implicit, or STARTTLS before anything is said)."""
    context = ssl.create_default_context()
    session: smtplib.SMTP
    if settings.implicit_tls:
        session = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        session = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
        try:
            session.starttls(context=context)
        except BaseException:
            session.close()
            raise
    if settings.user:
        try:
            session.login(settings.user, settings.password or "")
        except BaseException:
            session.close()
            raise
    return session


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failed try: doubling, capped."""
    return min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def deliver_due(
    connection: sqlite3.Connection, settings: SmtpSettings, now: datetime | None = None
) -> DeliveryReport:
    """Send every message that is due, over one SMTP session; each outcome is committed
    as soon as it is known."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    with inbox.transaction(connection):
        claimed = outbox.claim_due(connection, now)
    if not claimed:
        return report
    try:
        session = open_smtp(settings)
    except (OSError, smtplib.SMTPException) as error:
        # Nothing was said to the server yet: every claimed message waits for the next try.
        for message in claimed:
            _put_back(connection, message, describe(error), now, report)
        return report
    try:
        for message in claimed:
            _send_one(connection, session, message, now, report)
    finally:
        try:
            session.quit()
        except (OSError, smtplib.SMTPException):
            session.close()
    return report


def _send_one(
    connection: sqlite3.Connection,
    session: smtplib.SMTP,
    message: sqlite3.Row,
    now: datetime,
    report: DeliveryReport,
) -> None:
    parsed = email.message_from_string(message["message"], policy=email.policy.SMTP)
    # The row's Message-ID, the same on every try (see the module's docstring); a message
    # queued before the outbox kept one has its text's own.
    if message["message_id_header"]:
        del parsed["Message-ID"]
        parsed["Message-ID"] = message["message_id_header"]
    try:
        session.send_message(parsed, to_addrs=[message["recipient"]])
    except (OSError, smtplib.SMTPException) as error:
        if refused_for_good(error):
            report.failed += 1
            report.errors.append(describe(error))
            with inbox.transaction(connection):
                outbox.give_up(connection, message["id"], describe(error))
        else:
            _put_back(connection, message, describe(error), now, report)
        return
    with inbox.transaction(connection):
        outbox.mark_sent(connection, message["id"])
    report.sent += 1


def _put_back(
    connection: sqlite3.Connection,
    message: sqlite3.Row,
    error: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    report.errors.append(error)
    with inbox.transaction(connection):
        if message["attempts"] >= MAX_ATTEMPTS:
            outbox.give_up(connection, message["id"], error)
            report.failed += 1
            return
        outbox.put_back(connection, message["id"], error, now + backoff(message["attempts"]))
    report.retrying += 1


def refused_for_good(error: BaseException) -> bool:
    """A 5xx answer: the server will not take this message, however often it is tried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def describe(error: BaseException) -> str:
    """A short reason for the outbox and the log: never the message or an address."""
    if isinstance(error, smtplib.SMTPResponseException):
        # Servers often echo the recipient: the reason keeps the words, never the address.
        said = ADDRESS.sub("<address>", error.smtp_error.decode("utf-8", "replace"))
        return f"SMTP {error.smtp_code}: {said[:200]}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "the server refused the recipient"
    if isinstance(error, socket.timeout | TimeoutError):
        return "the mail server did not answer in time"
    return f"{type(error).__name__}: {error}"[:200]
