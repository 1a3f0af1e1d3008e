"""Finding, reading, rendering and threading comment files, in a second process that runs
beside the whole build.

Started when the articles generator is created, it lists the comment folders first (what
the build checks and counts as soon as the posts are read), then reads each post's
comments and sends them as they are done. Once Pelican has read the posts it tells the
process the order it will write them in, and pages wait only for their own post: on a
machine with two cores the comments of a big site are read while Pelican reads and writes
pages. Small sites are read in-process instead: a fork costs more than they do.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .cache import PostComments, no_gc, pack_records, rendered_bodies, to_record
from .feeds import post_entries
from .markup import thread_html
from .reader import (
    Stamps,
    check_unique_ids,
    list_folders,
    read_comment,
    stamp_files,
    stamps_digest,
)
from .rendering import content_key, render_comment_markdown
from .threads import build_thread

# Below this many comments (as the last build counted them), forking a process costs
# more than it saves.
BACKGROUND_THRESHOLD = 300

# What run() sends, in this order: ("folders", {slug: number of files}); ("post", slug,
# PostComments) for each post whose files changed; ("done",). Or, at any point, ("error",
# exception).
Message = tuple[Any, ...]


@dataclass
class Job:
    """Every post folder under `root`, to be read unless `cached` holds it unchanged."""

    root: Path
    options: dict[str, Any]
    timezone_key: str
    cached: dict[str, PostComments]


def run(job: Job, send: Callable[[Message], None], order: Callable[[], list[str] | None]) -> None:
    """List, read, check, render and thread, sending each step's result as it is done.

    `order()` may give, once, the slugs in the order their posts are wanted; posts not yet
    read are then read in that order. Raises CommentFileError on a bad file.
    """
    folders = list_folders(job.root)
    check_unique_ids(job.root, folders)
    send(("folders", {slug: len(names) for slug, names in folders.items()}))
    pending = list(folders)
    pending.reverse()  # popped from the end
    while pending:
        wanted = order()
        if wanted is not None:
            rank = {slug: index for index, slug in enumerate(wanted)}
            pending.sort(key=lambda slug: rank.get(slug, len(rank)), reverse=True)
        slug = pending.pop()
        names = folders[slug]
        cached = job.cached.get(slug)
        if cached is not None:
            digest = stamps_digest(stamp_files(f"{job.root}{os.sep}{slug}{os.sep}", names))
            if digest == cached.digest:
                continue
        send(("post", slug, read_post(job, slug, names, cached)))
    send(("done",))


def read_post(job: Job, slug: str, names: list[str], cached: PostComments | None) -> PostComments:
    """A post's comment files read into what the cache keeps (the thread's HTML as if
    comments are open); bodies `cached` already rendered are not rendered again."""
    timezone = ZoneInfo(job.timezone_key)
    rendered = rendered_bodies(cached)
    comments = []
    records = []
    stamps: Stamps = []
    # Plain strings: a Path per file costs more than reading a small file.
    folder = f"{job.root}{os.sep}{slug}{os.sep}"
    for name in names:
        comment = read_comment(folder + name, slug, timezone, stamps)
        key = content_key(comment.body)
        html = rendered.get(key)
        if html is None:
            html = rendered[key] = render_comment_markdown(comment.body)
        comment.content = html
        comments.append(comment)
        records.append(to_record(comment, key))
    top_level = build_thread(comments, job.options["MAX_DEPTH"], job.options["ORDER"] == "newest")
    return PostComments(
        digest=stamps_digest(stamps),
        count=len(comments),
        records=pack_records(records),
        html_key=(True, job.timezone_key),
        html=thread_html(top_level, slug, {**job.options, "open": True}, timezone),
        entries=post_entries(comments),
        likes={comment.id: comment.likes for comment in comments},
    )


def _child(connection: Connection, job: Job) -> None:
    # The child inherits Pelican's whole heap; a collection would walk (and copy, page by
    # page) all of it. The child lives for seconds and makes no reference cycles.
    gc.freeze()
    gc.disable()

    def send(message: Message) -> None:
        connection.send_bytes(ForkingPickler.dumps(message))

    def order() -> list[str] | None:
        return connection.recv() if connection.poll() else None

    try:
        run(job, send, order)
    except Exception as error:  # every failure goes back to the build, which reports it
        send(("error", error))
    finally:
        connection.close()


class Prefetch:
    """run(job) under way, in a forked process when the job is big (or unknown) enough,
    and what it has sent so far."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._process: multiprocessing.Process | None = None
        self._receiver: threading.Thread | None = None
        self._changed = threading.Condition()
        self._folders: dict[str, int] | None = None
        self._posts: dict[str, PostComments] = {}
        self._done = False
        self._error: BaseException | None = None
        # Nothing cached may be a first build of a big site: that is worth a process.
        known = sum(entry.count for entry in job.cached.values())
        big = not job.cached or known >= BACKGROUND_THRESHOLD
        # Fork shares the cache with the child for free; other start methods would copy it.
        if big and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._connection, child_end = context.Pipe(duplex=True)
            self._process = context.Process(target=_child, args=(child_end, job), daemon=True)
            self._process.start()
            child_end.close()
            # Messages are read as they come, so the child never waits on a full pipe.
            self._receiver = threading.Thread(
                target=self._receive, name="threaded_comments-receiver", daemon=True
            )
            self._receiver.start()

    def _take(self, message: Message) -> None:
        with self._changed:
            kind = message[0]
            if kind == "folders":
                self._folders = message[1]
            elif kind == "post":
                self._posts[message[1]] = message[2]
            elif kind == "done":
                self._done = True
            else:
                self._error = message[1]
            self._changed.notify_all()

    def _receive(self) -> None:
        try:
            while True:
                data = self._connection.recv_bytes()
                with no_gc():
                    message = ForkingPickler.loads(data)
                self._take(message)
                if message[0] in ("done", "error"):
                    return
        except BaseException as error:  # EOFError if the child died
            if not self._done and self._error is None:
                failure = RuntimeError("threaded_comments: the comment reader process died")
                failure.__cause__ = error
                self._take(("error", failure))

    def _wait(self, ready: Callable[[], bool]) -> None:
        if self._process is None and not self._done and self._error is None:
            # In-process: all of it, now.
            try:
                run(self._job, self._take, lambda: None)
            except Exception as error:
                self._take(("error", error))
        with self._changed:
            self._changed.wait_for(lambda: self._error is not None or ready())
        if self._error is not None:
            raise self._error

    def folders(self) -> dict[str, int]:
        """Post slug -> its number of comment files; re-raises an error from the reader."""
        self._wait(lambda: self._folders is not None)
        assert self._folders is not None
        return self._folders

    def want_in_order(self, slugs: list[str]) -> None:
        """Tell the reader which posts are wanted first (the order pages are written in)."""
        if self._process is not None and not self._done and self._error is None:
            # The child may be done already (or dead, which _wait reports).
            with contextlib.suppress(OSError):
                self._connection.send(slugs)

    def post(self, slug: str) -> PostComments | None:
        """The post's comments as read in this build, or None if they are unchanged (or it
        has none); waits for them if need be."""
        self._wait(lambda: slug in self._posts or self._done)
        return self._posts.get(slug)

    def done(self) -> dict[str, PostComments]:
        """Each post read in this build (its files changed); waits for the end."""
        self._wait(lambda: self._done)
        return self._posts

    def close(self) -> None:
        """Stop the child process, if any (after an error elsewhere in the build)."""
        if self._process is not None:
            # The child goes first: its end of the pipe closing is what lets a receiver
            # still waiting for data return, before the connection is closed under it.
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            if self._receiver is not None:
                self._receiver.join()
                self._receiver = None
            self._connection.close()
            self._process = None
