"""Publishing: idempotent, folds likes exactly once, and survives kill -9 at any point."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC

from threaded_comments import read_comment_file

from moderation import inbox
from moderation.inbox import Status
from moderation.pipeline import publish
from tests.support.moderation import (
    POST,
    PRIVATE,
    add_pending,
    files_containing,
    start_moderate_run,
)


def approve(connection, *comment_ids: str) -> None:
    with inbox.transaction(connection):
        for comment_id in comment_ids:
            inbox.decide(connection, comment_id, Status.APPROVED, "author", ["test"])


def like(connection, comment_id: str, *readers: str) -> None:
    with inbox.transaction(connection):
        for reader in readers:
            inbox.add_like(connection, POST, comment_id, reader)


def snapshot(project) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(project.comments_dir.rglob("*")) if p.is_file()}


def published_entries(connection, comment_id: str) -> int:
    return sum(
        entry["action"] == "published" and entry["comment_id"] == comment_id
        for entry in inbox.decision_log(connection)
    )


def test_the_file_has_public_fields_only(project, connection):
    parent = add_pending(connection, "First.", website="https://juniper.example.net")
    reply = add_pending(connection, "Second,\nover two lines.", parent_id=parent, author="Ash\nX")
    sneaky = add_pending(connection, "Third.", website="javascript:alert(1)")
    approve(connection, parent, reply, sneaky)

    report = publish.publish(connection, project.comments_dir, project.timezone)

    assert sorted(report.published) == sorted([parent, reply, sneaky])
    folder = project.comments_dir / POST
    created = inbox.get_comment(connection, reply)["created_at"]
    assert (folder / f"{reply}.md").read_text() == (
        f"author: Ash X\ndate: {created}\nreplyto: {parent}\n\nSecond,\nover two lines.\n"
    )
    assert "website: https://juniper.example.net\n" in (folder / f"{parent}.md").read_text()
    assert "website" not in (folder / f"{sneaky}.md").read_text()
    assert files_containing(project.comments_dir, PRIVATE) == []


def test_publishing_twice_publishes_nothing_twice(project, connection):
    comment = add_pending(connection, "Thank you for this.")
    approve(connection, comment)
    first = publish.publish(connection, project.comments_dir, project.timezone)
    files = snapshot(project)

    second = publish.publish(connection, project.comments_dir, project.timezone)

    assert first.published == [comment] and second.published == []
    assert snapshot(project) == files
    assert published_entries(connection, comment) == 1


def test_a_reply_waits_for_its_undecided_parent(project, connection):
    parent = add_pending(connection, "Still held.")
    reply = add_pending(connection, "A reply.", parent_id=parent)
    with inbox.transaction(connection):
        inbox.decide(connection, parent, Status.HELD, "rule", ["test"])
    approve(connection, reply)

    report = publish.publish(connection, project.comments_dir, project.timezone)
    assert report.published == [] and report.waiting == [reply]

    approve(connection, parent)
    report = publish.publish(connection, project.comments_dir, project.timezone)
    assert report.published == [parent, reply]


def test_likes_are_folded_once_and_added_to_an_imported_count(project, connection):
    ours = add_pending(connection, "Thank you for this.")
    approve(connection, ours)
    like(connection, ours, "r1")
    publish.publish(connection, project.comments_dir, project.timezone)
    imported = project.comments_dir / POST / "wp-17.md"
    imported.write_text("author: Wren\ndate: 2016-03-15T10:00:00+00:00\nlikes: 5\n\nOld words.\n")
    like(connection, "wp-17", "r1", "r2")
    like(connection, ours, "r2")

    for _ in range(2):
        publish.publish(connection, project.comments_dir, project.timezone)
        assert read_comment_file(project.comments_dir / POST / f"{ours}.md", UTC).likes == 2
        assert imported.read_text() == (
            "author: Wren\ndate: 2016-03-15T10:00:00+00:00\nlikes: 7\n\nOld words.\n"
        )
    assert inbox.unfolded_likes(connection, POST) == {ours: 0, "wp-17": 0}


def run_moderate(project, **env: str) -> subprocess.Popen:
    return start_moderate_run(project.inbox.parent.parent, **env)


def kill_when(process: subprocess.Popen, ready, timeout: float = 30) -> None:
    """SIGKILL `process` as soon as `ready()` is true (it is paused there by the debug hook)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the run never reached the point to kill it at"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_kill_9_mid_publish_then_rerun_loses_and_duplicates_nothing(project, connection):
    ids = [add_pending(connection, f"Comment number {n}.") for n in range(3)]
    approve(connection, *ids)
    folder = project.comments_dir / POST

    process = run_moderate(project, **{publish.PAUSE_HOOK: "60"})
    kill_when(process, lambda: any(folder.glob("*.md")))

    # Killed after the first file was in place, before the inbox recorded it.
    assert len(list(folder.glob("*.md"))) == 1
    assert all(inbox.get_comment(connection, cid)["published_at"] is None for cid in ids)

    rerun = run_moderate(project)
    assert rerun.wait(timeout=60) == 0, rerun.communicate()[0]

    assert sorted(p.stem for p in folder.glob("*.md")) == sorted(ids)
    assert list(folder.glob(".*")) == []
    for number, cid in enumerate(ids):
        assert (folder / f"{cid}.md").read_text().endswith(f"\n\nComment number {number}.\n")
        assert published_entries(connection, cid) == 1


def test_kill_9_mid_like_fold_then_rerun_counts_once(project, connection):
    imported = project.comments_dir / POST / "wp-3.md"
    imported.parent.mkdir(parents=True)
    imported.write_text("author: Wren\ndate: 2016-03-15T10:00:00+00:00\nlikes: 5\n\nOld words.\n")
    like(connection, "wp-3", "r1", "r2")

    process = run_moderate(project, **{publish.PAUSE_HOOK: "60"})
    kill_when(process, lambda: "likes: 7" in imported.read_text())

    rerun = run_moderate(project)
    assert rerun.wait(timeout=60) == 0, rerun.communicate()[0]
    assert read_comment_file(imported, UTC).likes == 7


def test_a_reply_to_a_comment_that_will_never_show_is_published_under_its_ancestor(
    project, connection
):
    top = add_pending(connection, "Top.")
    spam = add_pending(connection, "Spam in the middle.", parent_id=top)
    reply = add_pending(connection, "A reply to the spam.", parent_id=spam)
    orphan = add_pending(connection, "A reply to deleted spam.", parent_id="gone-forever")
    approve(connection, top, reply, orphan)
    with inbox.transaction(connection):
        inbox.decide(connection, spam, Status.SPAM, "akismet", ["test"])

    publish.publish(connection, project.comments_dir, project.timezone)

    folder = project.comments_dir / POST
    assert read_comment_file(folder / f"{reply}.md", UTC).replyto == top
    assert read_comment_file(folder / f"{orphan}.md", UTC).replyto is None


def test_removing_a_comment_moves_its_replies_up_and_the_site_still_builds(
    project, connection, site_copy, tmp_path
):
    from tests.support.site import read_html, run_pelican

    comments_dir = site_copy / "comments"
    token = "removal-token"
    parent = add_pending(
        connection, "Please remove me later.", removal_token_hash=inbox.hash_token(token)
    )
    reply = add_pending(connection, "A reply that should stay.", parent_id=parent, author="Ash")
    approve(connection, parent, reply)
    publish.publish(connection, comments_dir, project.timezone)
    with inbox.transaction(connection):
        inbox.request_removal(connection, parent, token)

    report = publish.publish(connection, comments_dir, project.timezone)

    assert report.removed == [parent]
    assert not (comments_dir / POST / f"{parent}.md").exists()
    result = run_pelican(site_copy, tmp_path / "output")
    assert result.returncode == 0, result.stdout + result.stderr
    page = read_html(tmp_path / "output" / "2016" / "03" / POST / "index.html")
    assert page.find(id=f"comment-{parent}") is None
    kept = page.find(id=f"comment-{reply}")
    assert kept is not None and "A reply that should stay." in kept.get_text()
    assert "Please remove me later." not in page.get_text()
