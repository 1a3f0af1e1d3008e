"""The intake purges readers' private details where the inbox lives, from its start."""

from __future__ import annotations

import time
from pathlib import Path

from moderation import inbox
from moderation.inbox import Status
from moderation.intake.app import create_app
from tests.support.intake import OPEN_POST, intake_settings_for, running


def test_the_intake_purges_old_decisions_when_it_starts(tmp_path: Path) -> None:
    settings = intake_settings_for(tmp_path)
    connection = inbox.connect(settings.inbox)
    ids = {}
    for name, days_ago in (("old", 45), ("recent", 3)):
        comment = inbox.NewComment(
            post_slug=OPEN_POST,
            author=name,
            email=f"{name}@example.net",
            body="Some words.",
            permalink="http://127.0.0.1/",
            ip="192.0.2.4",
            user_agent="Reader/1.0",
        )
        with inbox.transaction(connection):
            ids[name] = inbox.insert_comment(connection, comment)
            inbox.decide(connection, ids[name], Status.APPROVED, "author", ["review"])
            # As if decided that long ago.
            connection.execute(
                "UPDATE comments SET decided_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ?)"
                " WHERE id = ?",
                (f"-{days_ago} days", ids[name]),
            )
    with running(create_app(settings)):
        deadline = time.monotonic() + 30
        while inbox.get_comment(connection, ids["old"])["email"] and time.monotonic() < deadline:
            time.sleep(0.05)
    old, recent = (inbox.get_comment(connection, ids[name]) for name in ("old", "recent"))
    connection.close()
    assert (old["email"], old["ip"], old["user_agent"]) == (None, None, None)
    assert old["body"] == "Some words."
    assert (recent["email"], recent["ip"]) == ("recent@example.net", "192.0.2.4")
