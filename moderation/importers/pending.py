"""Comments WordPress still held for moderation, put into the inbox as pending, so the
author reviews them with `invoke moderate` (rules and Akismet included) as if they had just
arrived. A rerun of the import adds none twice."""

from __future__ import annotations

from pathlib import Path

from moderation import inbox


def pending_to_inbox(comments: list[inbox.NewComment], inbox_path: Path) -> tuple[int, int]:
    """Store each comment as pending unless the inbox has it already; returns (added, there)."""
    inbox_path.parent.mkdir(parents=True, exist_ok=True)
    connection = inbox.connect(inbox_path)
    try:
        added = 0
        with inbox.transaction(connection):
            for comment in comments:
                if not inbox.holds_comment(connection, comment):
                    inbox.insert_comment(connection, comment)
                    added += 1
    finally:
        connection.close()
    return added, len(comments) - added
