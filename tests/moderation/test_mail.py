"""Mail from the outbox to a real SMTP server on loopback: STARTTLS and SMTPS with a login,
retries with backoff when the server is down, and never a message twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderation import inbox, mail, outbox
from moderation.notify import compose
from tests.support.moderation import run_pipeline
from tests.support.smtp import USER, SmtpServer

READER = "reader.mail@example.org"


def queue_one(
    connection,
    text: str = "A reply to your comment.",
    to: str = READER,
    sender: str = "Between Sessions <blog@example.org>",
) -> int:
    message = compose(sender, to, "A test", text)
    with inbox.transaction(connection):
        return outbox.enqueue(connection, "test", to, message.as_string())


def row(connection, message_id: int):
    return connection.execute("SELECT * FROM outbox WHERE id = ?", (message_id,)).fetchone()


@pytest.fixture
def trusting(monkeypatch):
    """Point the sender at a test server: its URL, password, and its certificate trusted."""

    def use(server: SmtpServer) -> mail.SmtpSettings:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        settings = mail.SmtpSettings.from_environment(server.environment())
        assert settings is not None
        return settings

    return use


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "smtps"])
def test_a_queued_message_arrives_once_over_tls_with_a_login(
    tmp_path, connection, trusting, implicit_tls
):
    with SmtpServer(tmp_path, implicit_tls=implicit_tls) as server:
        settings = trusting(server)
        message_id = queue_one(connection, "Ash replied to your comment.")
        report = mail.deliver_due(connection, settings)
        again = mail.deliver_due(connection, settings)
    assert (report.sent, again.sent) == (1, 0)
    [received] = server.messages
    assert received.recipients == [READER]
    assert "Ash replied to your comment." in received.text
    assert server.logins == [USER]
    sent = row(connection, message_id)
    # Once sent, the outbox keeps that it went, not what it said.
    assert sent["sent_at"] is not None and sent["message"] == ""


def test_a_down_server_loses_nothing_and_the_retry_waits_for_its_backoff(
    tmp_path, connection, trusting
):
    server = SmtpServer(tmp_path)
    settings = trusting(server)  # not started: nothing listens on its port
    message_id = queue_one(connection)
    now = datetime.now(UTC)
    down = mail.deliver_due(connection, settings, now)
    assert (down.sent, down.retrying) == (0, 1)
    assert row(connection, message_id)["claimed_at"] is None
    with server:
        early = mail.deliver_due(connection, settings, now + timedelta(seconds=30))
        due = mail.deliver_due(connection, settings, now + mail.backoff(1))
    assert (early.sent, due.sent) == (0, 1)
    assert len(server.messages) == 1


def test_a_claimed_message_whose_sender_stopped_is_never_sent_again(tmp_path, connection, trusting):
    with SmtpServer(tmp_path) as server:
        settings = trusting(server)
        queue_one(connection)
        # A sender claims it, and is killed before it can say what became of it.
        with inbox.transaction(connection):
            assert len(outbox.claim_due(connection, datetime.now(UTC))) == 1
        later = datetime.now(UTC) + timedelta(hours=1)
        report = mail.deliver_due(connection, settings, later)
    assert report.sent == 0 and server.messages == []
    assert outbox.unfinished_claims(connection, later) == 1


def test_a_refused_recipient_is_given_up_without_naming_the_address(tmp_path, connection, trusting):
    with SmtpServer(tmp_path) as server:
        server.refuse.add("nobody@example.org")
        settings = trusting(server)
        message_id = queue_one(connection, to="nobody@example.org")
        report = mail.deliver_due(connection, settings)
    assert (report.sent, report.failed) == (0, 1)
    failed = row(connection, message_id)
    assert failed["failed_at"] is not None and failed["message"] == ""
    assert "nobody@example.org" not in failed["last_error"]


def test_the_smtp_url_says_how_to_connect():
    read = mail.SmtpSettings.from_environment
    assert read({}) is None
    assert read({"BETWEEN_SESSIONS_SMTP_URL": "smtps://mail.example.org"}) == mail.SmtpSettings(
        "mail.example.org", 465, implicit_tls=True
    )
    starttls = read(
        {
            "BETWEEN_SESSIONS_SMTP_URL": "smtp://me%40example.org:p%3Ass@mail.example.org",
            "BETWEEN_SESSIONS_SMTP_PASSWORD": "ignored when the URL has one",
        }
    )
    assert starttls == mail.SmtpSettings(
        "mail.example.org", 587, implicit_tls=False, user="me@example.org", password="p:ss"
    )
    with pytest.raises(ValueError, match="smtp://host:587"):
        read({"BETWEEN_SESSIONS_SMTP_URL": "http://mail.example.org"})


def test_invoke_moderate_says_once_that_mail_is_off(project, connection, monkeypatch):
    for name in ("BETWEEN_SESSIONS_SMTP_URL", "PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL"):
        monkeypatch.delenv(name, raising=False)
    _, output = run_pipeline(project, no_input=True)
    assert output.count("Mail is off") == 1


def test_invoke_moderate_sends_what_the_intake_could_not(
    tmp_path, project, connection, trusting, monkeypatch
):
    for name in ("PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL"):
        monkeypatch.delenv(name, raising=False)
    with SmtpServer(tmp_path) as server:
        trusting(server)
        queue_one(connection, "Waiting since the server was down.")
        _, output = run_pipeline(project, no_input=True)
    assert "Mail: sent 1" in output
    assert [m.text.strip() for m in server.messages] == ["Waiting since the server was down."]


def test_a_message_retried_after_a_lost_answer_keeps_its_message_id(tmp_path, connection, trusting):
    with SmtpServer(tmp_path) as server:
        settings = trusting(server)
        server.hang_ups = 1
        # A sender's domain long enough that the Message-ID header is folded in the text.
        sender = "Between Sessions <blog@between-sessions.example.org>"
        queued = queue_one(connection, "Rowan replied to your comment.", sender=sender)
        now = datetime.now(UTC)
        lost = mail.deliver_due(connection, settings, now)
        assert (lost.sent, lost.retrying) == (0, 1)
        retried = mail.deliver_due(connection, settings, now + mail.backoff(1))
        assert retried.sent == 1
    # The server took it twice (at least once, as the mail module says); both copies are
    # one message to her mail program: the Message-ID the outbox kept for it.
    first, second = server.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert first.message["Message-ID"].strip() == row(connection, queued)["message_id_header"]
