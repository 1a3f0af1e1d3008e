"""A decision changes a comment only if it still has the status the decider read."""

from __future__ import annotations

import pytest

from moderation import inbox
from moderation.inbox import StaleDecisionError, Status
from tests.support.moderation import add_pending, status_of


def test_a_decision_on_the_status_read_goes_through(connection):
    comment_id = add_pending(connection, "A quiet note after a hard session.")
    with inbox.transaction(connection):
        inbox.decide(connection, comment_id, Status.HELD, "rule", ["test"], expected=Status.PENDING)
    assert status_of(connection, comment_id) == "held"


def test_a_stale_decision_is_refused_and_changes_nothing(connection):
    comment_id = add_pending(connection, "Thank you for writing this.")
    with inbox.transaction(connection):
        inbox.decide(connection, comment_id, Status.DELETED, "author", ["the author's review"])
    log_before = len(inbox.decision_log(connection))
    # A verdict worked out while the comment was pending arrives after the author deleted it.
    with (
        pytest.raises(StaleDecisionError, match="was pending when read and is deleted now"),
        inbox.transaction(connection),
    ):
        inbox.decide(
            connection, comment_id, Status.APPROVED, "akismet", ["ham"], expected=Status.PENDING
        )
    assert status_of(connection, comment_id) == "deleted"
    assert len(inbox.decision_log(connection)) == log_before
