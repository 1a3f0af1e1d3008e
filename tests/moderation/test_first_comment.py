"""HOLD_FIRST_COMMENT (on by default, issue 14): a commenter's first comment waits for the
author; once one of hers is approved, the next goes through, even after the purge has
forgotten her address."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from moderation import inbox
from moderation.settings import ModerationOptions
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import FAST, add_pending, run_pipeline, status_of

HOLDING = dataclasses.replace(FAST, hold_first_comment=True)


@pytest.fixture
def standin(monkeypatch):
    with AkismetStandIn() as running:
        for name, value in running.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("BETWEEN_SESSIONS_SMTP_URL", raising=False)
        yield running


def test_the_setting_is_on_by_default():
    assert ModerationOptions().hold_first_comment is True


def test_a_first_comment_waits_and_the_next_goes_through_after_the_purge(
    project, connection, standin
):
    first = add_pending(connection, "Thank you for writing about the waiting room.")
    run_pipeline(project, HOLDING, no_input=True)
    assert status_of(connection, first) == "held"
    assert (
        "first comment from this email address" in inbox.get_comment(connection, first)["reasons"]
    )

    with inbox.transaction(connection):
        inbox.decide(connection, first, inbox.Status.APPROVED, "author", ["the author's review"])
    run_pipeline(project, HOLDING, no_input=True)  # published, and her address remembered
    long_ago = (datetime.now(UTC) - timedelta(days=60)).replace(microsecond=0).isoformat()
    connection.execute("UPDATE comments SET decided_at = ? WHERE id = ?", (long_ago, first))
    run_pipeline(project, HOLDING, no_input=True)
    assert inbox.get_comment(connection, first)["email"] is None  # purged

    second = add_pending(connection, "Back again: the part about Sundays, too.")
    stranger = add_pending(connection, "First time here.", email="new.reader@example.org")
    run_pipeline(project, HOLDING, no_input=True)
    assert status_of(connection, second) == "approved"
    assert status_of(connection, stranger) == "held"
    # Only a hash is kept for this: no address anywhere in the table.
    assert "@" not in str([tuple(r) for r in connection.execute("SELECT * FROM known_commenters")])
