"""Publishing: approved comments become content/comments/<post>/<id>.md, inbox likes are
folded into those files, and readers' removal requests are carried out.

Crash safety comes from the order of steps, not from locks: a file is written whole
(temp file, fsync, os.replace) *before* the inbox records it, and its name is the comment
id, so a run killed at any point and run again rewrites the same file with the same text
and never makes a second one. Like counts are written as `base + inbox likes`, both known
from the inbox, so rewriting them is idempotent too.

Debugging hook (used by the kill -9 test): MODERATION_DEBUG_PAUSE_AFTER_WRITE=<seconds>
pauses after each file is in place and before the inbox records it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from moderation import inbox
from moderation.inbox import Status

PAUSE_HOOK = "MODERATION_DEBUG_PAUSE_AFTER_WRITE"
TEMP_SUFFIX = ".tmp"
# A reply waits for its parent while the parent may still be published.
UNDECIDED = (Status.PENDING, Status.HELD, Status.APPROVED)


@dataclass
class PublishReport:
    """What a publishing pass did (or, in a dry run, would do)."""

    published: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    likes_folded: list[str] = field(default_factory=list)


def comment_path(comments_dir: Path, post_slug: str, comment_id: str) -> Path:
    """Where a comment's file lives: <comments dir>/<post slug>/<comment id>.md."""
    return comments_dir / post_slug / f"{comment_id}.md"


def _one_line(value: str) -> str:
    # A line break in a header value would start a new metadata field.
    return " ".join(value.split())


def render_comment_file(comment: sqlite3.Row, likes: int, parent_id: str | None) -> str:
    """The published file: public fields only (never email, IP or user agent), then the body.

    `parent_id` is the comment it is published under (see `thread_parent`).
    """
    lines = [f"author: {_one_line(comment['author'])}", f"date: {comment['created_at']}"]
    if parent_id:
        lines.append(f"replyto: {parent_id}")
    website = (comment["website"] or "").strip()
    if website and urlsplit(website).scheme in ("http", "https"):
        lines.append(f"website: {_one_line(website)}")
    if likes:
        lines.append(f"likes: {likes}")
    body = comment["body"].replace("\r\n", "\n").strip()
    return "\n".join(lines) + "\n\n" + body + "\n"


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(files: Mapping[Path, str]) -> None:
    """Write each text to its path so that readers see the old file or the new one, never
    half, and all of them are on disk when this returns.

    All temp files are written first and synced together, then renamed, then each folder
    is synced once: one journal commit carries most of the data, which makes a batch of
    a thousand files several times faster than syncing them one by one.
    """
    temps = {}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
        temp.write_text(text, encoding="utf-8", newline="\n")
        temps[path] = temp
    for temp in temps.values():
        _fsync(temp, os.O_RDWR)
    pause = float(os.environ.get(PAUSE_HOOK, "0") or 0)
    for path, temp in temps.items():
        temp.replace(path)
        if pause:
            time.sleep(pause)
    for folder in {path.parent for path in files}:
        _fsync(folder)


def remove_stale_temp_files(comments_dir: Path) -> int:
    """Delete temp files a killed run left behind; returns how many."""
    stale = list(comments_dir.glob(f"*/.*{TEMP_SUFFIX}")) if comments_dir.exists() else []
    for temp in stale:
        temp.unlink(missing_ok=True)
    return len(stale)


def header_value(text: str, name: str) -> str | None:
    """The value of one metadata field in a comment file's header, or None."""
    for line in text.partition("\n\n")[0].splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == name:
            return value.strip()
    return None


def with_header(text: str, name: str, value: str | None) -> str:
    """The comment file's text with one header field set to `value` (None removes it)."""
    header, separator, body = text.partition("\n\n")
    lines = [
        line
        for line in header.splitlines()
        if line.partition(":")[0].strip().lower() != name or not line.partition(":")[1]
    ]
    if value is not None:
        lines.append(f"{name}: {value}")
    return "\n".join(lines) + (separator or "\n\n") + body


def file_likes(text: str) -> int:
    """The `likes:` count in a comment file's header (0 when absent)."""
    value = header_value(text, "likes")
    return int(value) if value and value.isdigit() else 0


def with_likes(text: str, likes: int) -> str:
    """The comment file's text with its header's `likes:` set to `likes`."""
    return with_header(text, "likes", str(likes) if likes else None)


def _parent_in_file(text: str) -> str | None:
    # pelican-comment-system names the parent with its file's extension: `c003.md`.
    value = header_value(text, "replyto")
    return value.removesuffix(".md") if value else None


def _adopt_replies(comments_dir: Path, post_slug: str, comment_id: str) -> None:
    """Move the published replies of a comment about to go up to its own parent.

    A reply naming a comment that is not on the site would stop the build, and the
    replies are other readers' words, which stay.
    """
    folder = comments_dir / post_slug
    path = comment_path(comments_dir, post_slug, comment_id)
    grandparent = _parent_in_file(path.read_text(encoding="utf-8"))
    replies = {}
    for reply in folder.glob("*.md"):
        text = reply.read_text(encoding="utf-8")
        if reply != path and _parent_in_file(text) == comment_id:
            replies[reply] = with_header(text, "replyto", grandparent)
    if replies:
        atomic_write(replies)


def carry_out_removals(
    connection: sqlite3.Connection, comments_dir: Path, *, dry_run: bool = False
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
            _adopt_replies(comments_dir, comment["post_slug"], comment["id"])
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
    connection: sqlite3.Connection, comments_dir: Path, *, dry_run: bool = False
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
            _publish_batch(connection, comments_dir, ready, counts)
        queue = waiting
    report.waiting = [comment["id"] for comment in queue]
    return report


def _publish_batch(
    connection: sqlite3.Connection,
    comments_dir: Path,
    comments: list[sqlite3.Row],
    counts: dict[str, tuple[str, int]],
) -> None:
    # Every file is on disk before one transaction records them all: a crash in between
    # means the next run rewrites the same files, identical, and then records them.
    likes = {comment["id"]: counts.get(comment["id"], ("", 0))[1] for comment in comments}
    with inbox.transaction(connection):
        for comment in comments:
            inbox.record_like_base(connection, comment["id"], comment["post_slug"], 0)
    files = {
        comment_path(comments_dir, comment["post_slug"], comment["id"]): render_comment_file(
            comment, likes[comment["id"]], thread_parent(connection, comments_dir, comment)
        )
        for comment in comments
    }
    atomic_write(files)
    with inbox.transaction(connection):
        for comment in comments:
            inbox.set_folded_count(connection, comment["id"], likes[comment["id"]])
            inbox.mark_published(connection, comment["id"])


def fold_likes(
    connection: sqlite3.Connection, comments_dir: Path, *, dry_run: bool = False
) -> list[str]:
    """Bring published files' like counts up to date with the inbox; returns the ids changed.

    The file's own count before the first fold (an imported WordPress count, say) is
    recorded as its base first, so the file always says base + inbox likes, however often
    this runs or wherever it was killed.
    """
    changed = []
    for comment_id, (post_slug, count) in inbox.like_counts(connection).items():
        path = comment_path(comments_dir, post_slug, comment_id)
        state = inbox.folded_like_state(connection, comment_id)
        if state is not None and state["count"] == count:
            continue
        if not path.exists():  # not published (yet): publish_approved includes them then
            continue
        changed.append(comment_id)
        if dry_run:
            continue
        text = path.read_text(encoding="utf-8")
        if state is None:
            with inbox.transaction(connection):
                inbox.record_like_base(connection, comment_id, post_slug, file_likes(text))
            state = inbox.folded_like_state(connection, comment_id)
        atomic_write({path: with_likes(text, state["base"] + count)})
        with inbox.transaction(connection):
            inbox.set_folded_count(connection, comment_id, count)
    return changed


def publish(
    connection: sqlite3.Connection, comments_dir: Path, *, dry_run: bool = False
) -> PublishReport:
    """The whole publishing pass: removals first (so nothing removed is published), then
    approved comments, then likes."""
    if not dry_run:
        with contextlib.suppress(OSError):
            remove_stale_temp_files(comments_dir)
    removed = carry_out_removals(connection, comments_dir, dry_run=dry_run)
    report = publish_approved(connection, comments_dir, dry_run=dry_run)
    report.removed = removed
    report.likes_folded = fold_likes(connection, comments_dir, dry_run=dry_run)
    return report
