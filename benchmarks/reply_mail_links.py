"""What session 5's part of issue 14 adds to the intake's work, on this machine.

1. The admin API's "published" marks now queue reply mail (held) and remember the writer:
   one POST /api/admin/changes with N marks, each a reply whose parent has a confirmed
   subscriber, applied as the intake's writer applies it (`admin.apply_changes`, one
   transaction on a real SQLite file); then the "deployed" change that releases them.
2. A private link's listing of subscriptions (`subscriptions.shown_to_writer`, on every
   receipt and removal page), in an inbox with many subscriptions.

CPU time beside wall time, both of this process.

    .venv/bin/python benchmarks/reply_mail_links.py [--marks 2000] [--subscriptions 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation import inbox, subscriptions  # noqa: E402
from moderation.intake.admin import apply_changes  # noqa: E402
from moderation.mail import SmtpSettings  # noqa: E402
from moderation.notify import Notifier  # noqa: E402
from moderation.settings import NotifyOptions  # noqa: E402

POST = "texting-my-therapist"
PERMALINK = "https://blog.example.org/2016/03/texting-my-therapist/"
# Mail on, as on the live server; nothing is sent here (the marks only queue).
NOTIFIER = Notifier(
    NotifyOptions(sender="Between Sessions <blog@example.org>"),
    SmtpSettings("127.0.0.1", 2525, implicit_tls=False),
    "https://blog.example.org",
)


def timed(work) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def comment(author: str, email: str, parent: str | None = None) -> inbox.NewComment:
    return inbox.NewComment(
        post_slug=POST,
        author=author,
        email=email,
        body="Walking after dinner helped me more than I expected.",
        permalink=PERMALINK,
        parent_id=parent,
        ip="192.0.2.7",
        user_agent="Benchmark/1.0",
    )


def subscribed_parent(connection, number: int) -> str:
    """A comment by reader `number`, who asked for reply mail on it (not confirmed yet)."""
    address = f"r{number}@ex.org"
    parent = inbox.insert_comment(connection, comment(f"Reader {number}", address))
    subscriptions.subscribe(connection, NOTIFIER, parent, comment("R", address), "T")
    return parent


def published_marks(folder: Path, marks: int) -> None:
    connection = inbox.connect(folder / "marks.sqlite3")
    with inbox.transaction(connection):
        replies = []
        for number in range(marks):
            parent = subscribed_parent(connection, number)
            reply = inbox.insert_comment(
                connection, comment("Ash", f"ash{number}@ex.org", parent=parent)
            )
            inbox.decide(connection, reply, inbox.Status.APPROVED, "author", ["review"])
            replies.append(reply)
        connection.execute("UPDATE subscriptions SET confirmed_at = created_at")
    changes = [{"kind": "published", "id": reply} for reply in replies]

    def apply(batch: list[dict]) -> None:
        with inbox.transaction(connection):
            apply_changes(connection, batch, NOTIFIER)

    wall, cpu = timed(lambda: apply(changes))
    queued = connection.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'reply'").fetchone()[0]
    print(
        f"{marks} 'published' marks in one POST: {queued} reply mails queued held; "
        f"{wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU "
        f"({wall / marks * 1e6:.0f} µs wall, {cpu / marks * 1e6:.0f} µs CPU a mark)"
    )
    wall, cpu = timed(lambda: apply([{"kind": "deployed"}]))
    print(f"'deployed' releasing them: {wall * 1e3:.1f} ms wall, {cpu * 1e3:.1f} ms CPU")
    connection.close()


def listing(folder: Path, count: int) -> None:
    connection = inbox.connect(folder / "listing.sqlite3")
    with inbox.transaction(connection):
        # Four subscriptions an address: a reader who follows a few conversations.
        for number in range(count):
            subscribed_parent(connection, number // 4)
        connection.execute(
            "UPDATE subscriptions SET confirmed_at = created_at, confirmed_from_its_mail = 1"
        )
    row = inbox.get_comment(connection, connection.execute("SELECT id FROM comments").fetchone()[0])
    lookups = 200
    wall, cpu = timed(
        lambda: [subscriptions.shown_to_writer(connection, row) for _ in range(lookups)]
    )
    shown = len(subscriptions.shown_to_writer(connection, row))
    print(
        f"a link's listing among {count} subscriptions ({shown} shown): "
        f"{wall / lookups * 1e3:.2f} ms wall, {cpu / lookups * 1e3:.2f} ms CPU a page"
    )
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, default=20000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        published_marks(Path(folder), arguments.marks)
        listing(Path(folder), arguments.subscriptions)


if __name__ == "__main__":
    main()
