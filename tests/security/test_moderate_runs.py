"""Threat: two `invoke moderate` runs at once (a cron job and the author, or two terminals)
interfere, and a verdict worked out on a comment overrides what happened to it meanwhile
(issue 12, item 4). Real runs (`python -m moderation.pipeline.run`, what the task calls)
against the Akismet stand-in on loopback.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

from rich.console import Console
from threaded_comments import remove_orphaned_temp_files

from moderation import inbox
from moderation.inbox import Status
from moderation.pipeline.console import review
from moderation.pipeline.run import EXIT_ALREADY_RUNNING, EXIT_OK
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import (
    POST,
    add_pending,
    make_project,
    start_moderate_run,
    status_of,
)


def test_two_runs_started_together_publish_each_comment_once(tmp_path):
    project = make_project(tmp_path / "project")
    connection = inbox.connect(project.inbox)
    comments = [add_pending(connection, f"Note {n} from the waiting room.") for n in range(6)]

    # Akismet answers slowly, so the runs overlap whatever the machine's load.
    with AkismetStandIn(delay=1.5) as akismet:
        runs = [
            start_moderate_run(project.root, **akismet.environment()),
            start_moderate_run(project.root, **akismet.environment()),
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        checks = len(akismet.calls("comment-check"))

    codes = sorted(run.returncode for run in runs)
    assert codes == [EXIT_OK, EXIT_ALREADY_RUNNING], outputs
    second = outputs[[run.returncode for run in runs].index(EXIT_ALREADY_RUNNING)]
    assert "Another `invoke moderate` is running" in second
    assert checks == len(comments)
    files = sorted(path.stem for path in (project.comments_dir / POST).glob("*.md"))
    assert files == sorted(comments)
    published = [
        e["comment_id"] for e in inbox.decision_log(connection) if e["action"] == "published"
    ]
    assert sorted(published) == sorted(comments)


def test_a_comment_deleted_while_akismet_is_asked_stays_deleted(tmp_path):
    project = make_project(tmp_path / "project")
    connection = inbox.connect(project.inbox)
    deleted = add_pending(connection, "Please take this down, I said too much.")
    kept = add_pending(connection, "Thank you, this helped me before my session.")

    with AkismetStandIn(delay=3) as akismet:
        run = start_moderate_run(project.root, **akismet.environment())
        while len(akismet.calls("comment-check")) < 2 and run.poll() is None:
            time.sleep(0.05)
        # The author deletes it (or a second tool does) while its verdict is on the way.
        with inbox.transaction(connection):
            inbox.decide(
                connection,
                deleted,
                Status.DELETED,
                "author",
                ["the author's review"],
                expected=Status.PENDING,
            )
        output = run.communicate(timeout=120)[0]

    assert run.returncode == EXIT_OK, output
    assert status_of(connection, deleted) == "deleted"
    assert status_of(connection, kept) == "approved"
    assert not (project.comments_dir / POST / f"{deleted}.md").exists()
    assert (project.comments_dir / POST / f"{kept}.md").exists()
    assert f"comment {deleted} was pending when read and is deleted now" in output


def test_the_authors_approval_of_a_comment_removed_meanwhile_is_refused(
    project, connection, monkeypatch
):
    comment_id = add_pending(connection, "I would rather this came down after all.")
    with inbox.transaction(connection):
        inbox.decide(connection, comment_id, Status.HELD, "rule", ["test"])
    to_review = inbox.comments_with_status(connection, Status.HELD)
    # While the author reads it, the reader's removal is carried out (by a run on another
    # checkout sharing the inbox, say).
    with inbox.transaction(connection):
        inbox.mark_removed(connection, comment_id)
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n"))  # she types "a" (approve)
    shown = io.StringIO()

    result = review(
        Console(file=shown, width=200),
        connection,
        to_review,
        {},
        project.comments_dir,
        lambda comment, spam: "Akismet told.",
        project.author_name,
    )

    assert status_of(connection, comment_id) == "removed"
    assert f"comment {comment_id} was held when read and is removed now" in shown.getvalue()
    assert [action for _, action in result.decisions] == ["left as it is (it changed meanwhile)"]


def test_the_clean_up_leaves_a_running_process_its_temp_files(tmp_path):
    # A write in progress elsewhere (another run, the importer) must survive our clean-up;
    # what a killed process left is removed.
    folder = tmp_path / "comments" / POST
    folder.mkdir(parents=True)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = folder / f".a.md.{gone.stdout.strip()}.tmp"
    in_progress = folder / f".b.md.{os.getpid()}.tmp"
    for temp in (orphan, in_progress):
        temp.write_text("author: Reader\n", encoding="utf-8")

    assert remove_orphaned_temp_files(tmp_path / "comments") == 1
    assert not orphan.exists()
    assert in_progress.exists()
