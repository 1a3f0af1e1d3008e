"""Publishing: approved comments become content/comments/<post>/<id>.md, inbox likes are
folded into those files, and readers' removal requests are carried out.

Files are written only through the comment file's owner (`threaded_comments`:
`format_comment_file`, `read_comment_file`) and its `atomic_write`.

Crash safety comes from the order of steps, not from locks: a file is written whole
(temp file, fsync, rename) *before* the inbox records it, and its name is the comment
id, so a run killed at any point and run again rewrites the same file with the same text
and never makes a second one. Like counts are written as `base + inbox likes`, both known
from the inbox, so rewriting them is idempotent too.

Debugging hook (used by the kill -9 test): MODERATION_DEBUG_PAUSE_AFTER_WRITE=<seconds>
pauses after each file is in place and before the inbox records it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from threaded_comments import (
    CommentFile,
    atomic_write,
    comment_path,
    format_comment_file,
    read_comment_file,
    remove_orphaned_temp_files,
    website_problem,
)

from moderation import commenters, inbox, subscriptions
from moderation.inbox import Status
from moderation.notify import Notifier

PAUSE_HOOK = "MODERATION_DEBUG_PAUSE_AFTER_WRITE"
# A reply waits for its parent while the parent may still be published.
UNDECIDED = (Status.PENDING, Status.HELD, Status.APPROVED)


@dataclass
class PublishReport:
    """What a publishing pass did (or, in a dry run, would do)."""

    published: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    likes_folded: list[str] = field(default_factory=list)


def write_comment_files(comments: list[CommentFile], comments_dir: Path, post_slug: str) -> None:
    """Write the comments' files into one post's folder, all on disk when this returns."""
    write_files(
        {comment_path(comments_dir, post_slug, c.id): format_comment_file(c) for c in comments}
    )


def write_files(files: dict[Path, str]) -> None:
    """atomic_write, pausing after each file when the kill -9 test asks for it (PAUSE_HOOK)."""
    pause = float(os.environ.get(PAUSE_HOOK, "0") or 0)
    atomic_write(files, after_each=(lambda _: time.sleep(pause)) if pause else None)


def published_comment(comment: sqlite3.Row, likes: int, replyto: str | None) -> CommentFile:
    """An inbox comment as its published file holds it: public fields only (never email,
    IP or user agent). `replyto` is the comment it is published under (`thread_parent`)."""
    website = (comment["website"] or "").strip()
    return CommentFile(
        id=comment["id"],
        author=comment["author"],
        date=datetime.fromisoformat(comment["created_at"]),
        body=comment["body"],
        replyto=replyto,
        # The intake checked the same rule; an older inbox row may predate it.
        website=website if website and website_problem(website) is None else None,
        likes=likes,
        author_role=comment["author_role"],
    )


def _adopt_replies(comments_dir: Path, post_slug: str, comment_id: str, timezone: tzinfo) -> None:
    """Move the published replies of a comment about to go up to its own parent.

    A reply naming a comment that is not on the site would stop the build, and the
    replies are other readers' words, which stay.
    """
    path = comment_path(comments_dir, post_slug, comment_id)
    grandparent = read_comment_file(path, timezone).replyto
    replies = [
        dataclasses.replace(reply, replyto=grandparent)
        for reply in (read_comment_file(other, timezone) for other in path.parent.glob("*.md"))
        if reply.id != comment_id and reply.replyto == comment_id
    ]
    if replies:
        write_comment_files(replies, comments_dir, post_slug)


def carry_out_removals(
    connection: sqlite3.Connection,
    comments_dir: Path,
    timezone: tzinfo,
    *,
    dry_run: bool = False,
) -> list[str]:
    """Delete the files of comments readers asked to remove, and mark them removed.

    Their published replies move up to the removed comment's parent first, so a run
    killed between the steps leaves a site that still builds, and the rerun finishes.
    """
    done = []
    for comment in inbox.removals_to_carry_out(connection):
        done.append(comment["id"])
        if dry_run:
            continue
        path = comment_path(comments_dir, comment["post_slug"], comment["id"])
        if path.exists():
            _adopt_replies(comments_dir, comment["post_slug"], comment["id"], timezone)
            path.unlink()
        with inbox.transaction(connection):
            inbox.mark_removed(connection, comment["id"])
    return done


def _parent_pending(connection: sqlite3.Connection, comment: sqlite3.Row, done: set[str]) -> bool:
    # Walks up past ancestors that will never show, as thread_parent does, and waits when
    # the first one that may show is not on the site yet.
    parent_id = comment["parent_id"]
    while parent_id and parent_id not in done:
        parent = inbox.get_comment(connection, parent_id)
        if parent is None:  # a comment from elsewhere (an import): its file is already there
            return False
        if parent["published_at"] is None and Status(parent["status"]) in UNDECIDED:
            return True
        if parent["published_at"] is not None and Status(parent["status"]) is Status.APPROVED:
            return False
        parent_id = parent["parent_id"]
    return False


def thread_parent(
    connection: sqlite3.Connection, comments_dir: Path, comment: sqlite3.Row
) -> str | None:
    """The comment a reply is published under: its parent, or, when that one will never
    be on the site (spam, deleted, removed), the nearest ancestor that is; None for none."""
    parent_id = comment["parent_id"]
    while parent_id and not comment_path(comments_dir, comment["post_slug"], parent_id).exists():
        parent = inbox.get_comment(connection, parent_id)
        parent_id = parent["parent_id"] if parent is not None else None
    return parent_id


def publish_approved(
    connection: sqlite3.Connection,
    comments_dir: Path,
    *,
    dry_run: bool = False,
    notifier: Notifier | None = None,
) -> PublishReport:
    """Write every approved, unpublished comment's file, oldest first, then mark it published.

    A reply whose parent is still undecided waits for it, so no published reply ever
    points at a comment that may yet appear.
    """
    report = PublishReport()
    counts = inbox.like_counts(connection)
    done: set[str] = set()
    queue = [
        comment
        for comment in inbox.comments_with_status(connection, Status.APPROVED)
        if comment["published_at"] is None
    ]
    # Passes until nothing moves: a parent approved in the same run goes before its replies,
    # whatever order the inbox lists them in.
    while queue:
        waiting = [comment for comment in queue if _parent_pending(connection, comment, done)]
        ready = [comment for comment in queue if comment not in waiting]
        if not ready:
            break
        done.update(comment["id"] for comment in ready)
        report.published += [comment["id"] for comment in ready]
        if not dry_run:
            _publish_batch(connection, comments_dir, ready, counts, notifier)
        queue = waiting
    report.waiting = [comment["id"] for comment in queue]
    return report


def _publish_batch(
    connection: sqlite3.Connection,
    comments_dir: Path,
    comments: list[sqlite3.Row],
    counts: dict[tuple[str, str], int],
    notifier: Notifier | None,
) -> None:
    # Every file is on disk before one transaction records them all: a crash in between
    # means the next run rewrites the same files, identical, and then records them. The
    # reply mail is queued in that same transaction, so it exists once the reply is marked
    # published, and only then; it is held until the site is rebuilt (issue 14).
    likes = {c["id"]: counts.get((c["post_slug"], c["id"]), 0) for c in comments}
    with inbox.transaction(connection):
        for comment in comments:
            inbox.record_like_base(connection, comment["post_slug"], comment["id"], 0)
    write_files(
        {
            comment_path(comments_dir, comment["post_slug"], comment["id"]): format_comment_file(
                published_comment(
                    comment, likes[comment["id"]], thread_parent(connection, comments_dir, comment)
                )
            )
            for comment in comments
        }
    )
    with inbox.transaction(connection):
        for comment in comments:
            inbox.set_folded_count(
                connection, comment["post_slug"], comment["id"], likes[comment["id"]]
            )
            inbox.mark_published(connection, comment["id"])
            if comment["email"]:
                commenters.remember(connection, comment["email"])
            if notifier is not None:
                subscriptions.queue_reply_mails(connection, notifier, comment, held=True)


def fold_likes(
    connection: sqlite3.Connection,
    comments_dir: Path,
    timezone: tzinfo,
    *,
    dry_run: bool = False,
) -> list[str]:
    """Bring published files' like counts up to date with the inbox; returns the ids changed.

    The file's own count before the first fold (an imported WordPress count, say) is
    recorded as its base first, so the file always says base + inbox likes, however often
    this runs or wherever it was killed. A like names (post, comment id), so only that
    post's file changes even where another post has a comment of the same id.
    """
    changed = []
    for (post_slug, comment_id), count in inbox.like_counts(connection).items():
        path = comment_path(comments_dir, post_slug, comment_id)
        state = inbox.folded_like_state(connection, post_slug, comment_id)
        if state is not None and state["count"] == count:
            continue
        if not path.exists():  # not published (yet): publish_approved includes them then
            continue
        changed.append(comment_id)
        if dry_run:
            continue
        published = read_comment_file(path, timezone)
        if state is None:
            with inbox.transaction(connection):
                inbox.record_like_base(connection, post_slug, comment_id, published.likes)
            state = inbox.folded_like_state(connection, post_slug, comment_id)
        write_comment_files(
            [dataclasses.replace(published, likes=state["base"] + count)], comments_dir, post_slug
        )
        with inbox.transaction(connection):
            inbox.set_folded_count(connection, post_slug, comment_id, count)
    return changed


def clear_leftovers(comments_dir: Path) -> None:
    """Delete the temp files that runs killed mid-write left in the comment folders."""
    with contextlib.suppress(OSError):
        remove_orphaned_temp_files(comments_dir)


def publish(
    connection: sqlite3.Connection,
    comments_dir: Path,
    timezone: tzinfo,
    *,
    dry_run: bool = False,
    notifier: Notifier | None = None,
) -> PublishReport:
    """The whole publishing pass: removals first (so nothing removed is published), then
    approved comments, then likes. `timezone` (the site's) reads file dates without one;
    with a `notifier`, published replies are mailed to their parent's subscribers. What
    killed runs left is cleared before (`clear_leftovers`)."""
    removed = carry_out_removals(connection, comments_dir, timezone, dry_run=dry_run)
    report = publish_approved(connection, comments_dir, dry_run=dry_run, notifier=notifier)
    report.removed = removed
    report.likes_folded = fold_likes(connection, comments_dir, timezone, dry_run=dry_run)
    return report
