"""Threat to readers' privacy rather than from them (issue 12, item 9): details kept for
ever because nobody decided on a comment, and a real-looking address in public content.
"""

from __future__ import annotations

from moderation import inbox
from tests.support.moderation import PRIVATE, PROJECT_ROOT, add_pending, run_pipeline

LONG_AGO = "2020-01-01T00:00:00+00:00"


def test_undecided_comments_older_than_the_purge_age_lose_their_details_not_their_text(
    project, connection
):
    old_held = add_pending(connection, "A held comment nobody got round to.")
    old_pending = add_pending(connection, "One that never reached a decision.")
    recent_held = add_pending(connection, "A held comment from this week.")
    with inbox.transaction(connection):
        for comment_id in (old_held, recent_held):
            inbox.decide(connection, comment_id, inbox.Status.HELD, "rule", ["test"])
        connection.execute(
            "UPDATE comments SET created_at = ? WHERE id IN (?, ?)",
            (LONG_AGO, old_held, old_pending),
        )

    code, output = run_pipeline(project, no_input=True)

    assert code == 0, output
    for comment_id in (old_held, old_pending):
        row = inbox.get_comment(connection, comment_id)
        assert (row["email"], row["ip"], row["user_agent"], row["referrer"]) == (None,) * 4
        assert row["body"]
    held = inbox.get_comment(connection, old_held)
    assert (held["status"], held["body"]) == ("held", "A held comment nobody got round to.")
    kept = inbox.get_comment(connection, recent_held)
    assert (kept["email"], kept["ip"], kept["user_agent"]) == PRIVATE


def test_no_published_sample_comment_carries_an_email_line():
    carrying = [
        path.relative_to(PROJECT_ROOT)
        for path in (PROJECT_ROOT / "content" / "comments").rglob("*.md")
        if any(
            line.lower().startswith("email:")
            for line in path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
        )
    ]
    assert carrying == []
