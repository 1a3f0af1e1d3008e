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
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from moderation import inbox
from moderation.inbox import Status

PAUSE_HOOK = "MODERATION_DEBUG_PAUSE_AFTER_WRITE"
LIKES_LINE = re.compile(r"^likes:[ \t]*(\d+)[ \t]*$", re.MULTILINE | re.IGNORECASE)
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


def render_comment_file(comment: sqlite3.Row, likes: int) -> str:
    """The published file: public fields only (never email, IP or user agent), then the body."""
    lines = [f"author: {_one_line(comment['author'])}", f"date: {comment['created_at']}"]
    if comment["parent_id"]:
        lines.append(f"replyto: {comment['parent_id']}")
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


def file_likes(text: str) -> int:
    """The `likes:` count in a comment file's header (0 when absent)."""
    header = text.split("\n\n", 1)[0]
    found = LIKES_LINE.search(header)
    return int(found.group(1)) if found else 0


def with_likes(text: str, likes: int) -> str:
    """The comment file's text with its header's `likes:` set to `likes`."""
    header, separator, body = text.partition("\n\n")
    header = LIKES_LINE.sub("", header).rstrip("\n")
    header = re.sub(r"\n{2,}", "\n", header)
    if likes:
        header += f"\nlikes: {likes}"
    return header + (separator or "\n\n") + body


def carry_out_removals(
    connection: sqlite3.Connection, comments_dir: Path, *, dry_run: bool = False
) -> list[str]:
    """Delete the files of comments readers asked to remove, and mark them removed."""
    done = []
    for comment in inbox.removals_to_carry_out(connection):
        done.append(comment["id"])
        if dry_run:
            continue
        comment_path(comments_dir, comment["post_slug"], comment["id"]).unlink(missing_ok=True)
        with inbox.transaction(connection):
            inbox.mark_removed(connection, comment["id"])
    return done


def _parent_pending(connection: sqlite3.Connection, comment: sqlite3.Row, done: set[str]) -> bool:
    parent_id = comment["parent_id"]
    if not parent_id or parent_id in done:
        return False
    parent = inbox.get_comment(connection, parent_id)
    if parent is None:  # a comment from elsewhere (an import): its file is already there
        return False
    return parent["published_at"] is None and Status(parent["status"]) in UNDECIDED


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
            comment, likes[comment["id"]]
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
