"""Reading, rendering and threading comment files, in a second process while Pelican
reads the posts.

Started when the articles generator is created and collected once it has read every
post, so on a machine with two cores a cold build pays little for its comments. Small
jobs (an unchanged rebuild, a new comment or two) run in-process instead: a fork costs
more than they do.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .cache import Record, no_gc, to_record
from .feeds import post_entries_xml
from .markup import thread_html
from .reader import Stamps, read_comment, scan_folders
from .rendering import content_key, render_comment_markdown
from .threads import build_thread

# Below this many files to read, forking a process costs more than it saves.
BACKGROUND_THRESHOLD = 300


@dataclass
class Job:
    """What to read: `wanted` post slug -> file names, or None for every file under root."""

    root: Path
    wanted: dict[str, list[str]] | None
    options: dict[str, Any]
    timezone_key: str
    rendered: dict[str, str]


@dataclass
class PostResult:
    """A post's comments as read, with the thread's HTML (comments open) and feed entries."""

    records: list[Record]
    html: str
    feed_entries: str


@dataclass
class Result:
    """Scanned folders (when the job scanned), each read post, and bodies new to the cache."""

    folders: dict[str, Stamps] | None
    posts: dict[str, PostResult] = field(default_factory=dict)
    rendered: dict[str, str] = field(default_factory=dict)


def run(job: Job) -> Result:
    """Read, check, render and thread the job's files; raise CommentFileError on a bad one."""
    timezone = ZoneInfo(job.timezone_key)
    folders = scan_folders(job.root) if job.wanted is None else None
    wanted = job.wanted
    if wanted is None:
        wanted = {slug: [name for name, _, _ in stamps] for slug, stamps in folders.items()}
    result = Result(folders)
    newest_first = job.options["ORDER"] == "newest"
    html_options = {**job.options, "open": True}
    for slug, names in wanted.items():
        comments = []
        records = []
        # Plain strings: a Path per file costs more than reading a small file.
        folder = f"{job.root}{os.sep}{slug}{os.sep}"
        for name in names:
            comment = read_comment(folder + name, slug, timezone)
            key = content_key(comment.body)
            html = job.rendered.get(key) or result.rendered.get(key)
            if html is None:
                html = result.rendered[key] = render_comment_markdown(comment.body)
            comment.content = html
            comments.append(comment)
            records.append(to_record(comment, key))
        top_level = build_thread(comments, job.options["MAX_DEPTH"], newest_first)
        result.posts[slug] = PostResult(
            records,
            thread_html(top_level, slug, html_options, timezone),
            post_entries_xml(comments),
        )
    return result


def _child(connection: Connection, job: Job) -> None:
    # The child inherits Pelican's whole heap; a collection would walk (and copy, page by
    # page) all of it. The child lives for seconds and makes no reference cycles.
    gc.freeze()
    gc.disable()
    try:
        connection.send(("ok", run(job)))
    except Exception as error:  # every failure goes back to the build, which reports it
        connection.send(("error", error))
    finally:
        connection.close()


class Prefetch:
    """run(job) under way: in a forked process when the job is big (or unknown) enough."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._process: multiprocessing.Process | None = None
        self._receiver: threading.Thread | None = None
        self._received: bytes | None = None
        self._receive_error: BaseException | None = None
        big = job.wanted is None or sum(map(len, job.wanted.values())) >= BACKGROUND_THRESHOLD
        # Fork shares the cache with the child for free; other start methods would copy it.
        if big and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._connection, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(child_end, job), daemon=True)
            self._process.start()
            child_end.close()
            # The child's answer is tens of megabytes, and a pipe holds 64 KiB: read it as
            # it comes, while Pelican reads posts, so the child can exit (ending the
            # copy-on-write sharing of the heap) and result() only unpickles. Reading
            # releases the GIL; unpickling, which does not, stays in result().
            self._receiver = threading.Thread(
                target=self._receive, name="threaded_comments-receiver", daemon=True
            )
            self._receiver.start()

    def _receive(self) -> None:
        try:
            self._received = self._connection.recv_bytes()
        except BaseException as error:  # EOFError if the child died; result() reports it
            self._receive_error = error

    def result(self) -> Result:
        """The job's result; re-raises a CommentFileError from the child."""
        if self._process is None:
            return run(self._job)
        try:
            assert self._receiver is not None
            self._receiver.join()
            if self._received is None:
                raise RuntimeError(
                    "threaded_comments: the comment reader process died"
                ) from self._receive_error
            with no_gc():
                status, value = ForkingPickler.loads(self._received)
        finally:
            self._received = None
            self.close()
        if status == "error":
            raise value
        return value

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
