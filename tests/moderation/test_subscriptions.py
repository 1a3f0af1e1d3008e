"""Subscriptions to replies in a real inbox (issue 14): one confirmation mail per address a
day, expiry of what is never confirmed, no mail to oneself, and what the purge keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moderation import inbox, outbox, subscriptions
from moderation.mail import SmtpSettings
from moderation.notify import Notifier
from moderation.settings import NotifyOptions
from tests.support.moderation import POST, PRIVATE, add_pending, run_pipeline

SMTP = SmtpSettings("127.0.0.1", 587, implicit_tls=False)
NOTIFIER = Notifier(NotifyOptions(), SMTP, "https://blog.example.org")
EMAIL = PRIVATE[0]


def subscribe(connection, body: str, email: str = EMAIL) -> str:
    comment_id = add_pending(connection, body, email=email)
    comment = inbox.NewComment(
        post_slug=POST, author="Juniper", email=email, body=body, permalink="/p/"
    )
    with inbox.transaction(connection):
        assert subscriptions.subscribe(connection, NOTIFIER, comment_id, comment, "A post")
    return comment_id


def queued(connection, kind: str) -> list:
    return connection.execute("SELECT * FROM outbox WHERE kind = ?", (kind,)).fetchall()


def test_one_confirmation_mail_per_address_per_day(connection):
    subscribe(connection, "First comment.")
    subscribe(connection, "Second comment, same day.")
    subscribe(connection, "Another reader.", email="other@example.org")
    assert [row["recipient"] for row in queued(connection, "confirm")] == [
        EMAIL,
        "other@example.org",
    ]


def test_without_a_link_base_or_smtp_nothing_is_stored(connection):
    comment = inbox.NewComment(post_slug=POST, author="J", email=EMAIL, body="x", permalink="/")
    for notifier in (Notifier(NotifyOptions(), None, "https://b"), Notifier(NotifyOptions(), SMTP)):
        with inbox.transaction(connection):
            assert not subscriptions.subscribe(connection, notifier, "c1", comment, "A post")
    assert connection.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0] == 0


def test_an_unconfirmed_subscription_expires_after_seven_days(connection):
    subscribe(connection, "A comment.")
    old = (datetime.now(UTC) - timedelta(days=8)).replace(microsecond=0).isoformat()
    connection.execute("UPDATE subscriptions SET created_at = ?", (old,))
    with inbox.transaction(connection):
        assert subscriptions.expire_unconfirmed(connection) == 1
    assert connection.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0] == 0


def test_no_mail_for_replying_to_oneself_and_none_unconfirmed(connection):
    parent = subscribe(connection, "My comment.")
    with inbox.transaction(connection):
        connection.execute("UPDATE subscriptions SET confirmed_at = created_at")
    own = add_pending(connection, "Replying to myself.", parent_id=parent, email=EMAIL.upper())
    other = add_pending(connection, "A reply.", parent_id=parent, email="ash@example.org")
    with inbox.transaction(connection):
        for reply in (own, other):
            subscriptions.queue_reply_mails(
                connection, NOTIFIER, inbox.get_comment(connection, reply), held=True
            )
    [mail] = queued(connection, "reply")
    assert mail["recipient"] == EMAIL and "ash@example.org" not in mail["message"]
    # Held until the rebuilt site shows the reply.
    assert mail["next_attempt_at"] == outbox.HELD
    with inbox.transaction(connection):
        assert outbox.release_held(connection) == 1


def test_the_purge_keeps_a_confirmed_subscriptions_email_and_nothing_else(project, connection):
    parent = subscribe(connection, "Thank you for writing this.")
    with inbox.transaction(connection):
        connection.execute("UPDATE subscriptions SET confirmed_at = created_at")
        inbox.decide(connection, parent, inbox.Status.SPAM, "author", ["test"])
    long_ago = (datetime.now(UTC) - timedelta(days=60)).replace(microsecond=0).isoformat()
    connection.execute("UPDATE comments SET decided_at = ?", (long_ago,))
    run_pipeline(project, no_input=True)
    row = inbox.get_comment(connection, parent)
    assert (row["email"], row["ip"], row["user_agent"]) == (None, None, None)
    assert [tuple(r) for r in connection.execute("SELECT email FROM subscriptions")] == [(EMAIL,)]
