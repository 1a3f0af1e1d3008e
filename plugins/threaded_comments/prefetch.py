"""Finding, reading, rendering and threading comment files, in a second process while
Pelican reads the posts.

Started when the articles generator is created and collected once it has read every
post, so on a machine with two cores a build pays little for its comments: even the scan
of the comment folders (a stat per file) runs beside Pelican. Small sites run in-process
instead: a fork costs more than they do.
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


@dataclass
class Job:
    """Every post folder under `root`, to be read unless `cached` holds it unchanged."""

    root: Path
    options: dict[str, Any]
    timezone_key: str
    cached: dict[str, PostComments]


@dataclass
class Result:
    """Each post folder's digest, and what the posts whose files changed came to."""

    folders: dict[str, bytes] = field(default_factory=dict)
    posts: dict[str, PostComments] = field(default_factory=dict)


def run(job: Job) -> Result:
    """List, read, check, render and thread; raise CommentFileError on a bad file."""
    folders = list_folders(job.root)
    check_unique_ids(job.root, folders)
    result = Result()
    for slug, names in folders.items():
        cached = job.cached.get(slug)
        if cached is not None:
            digest = stamps_digest(stamp_files(f"{job.root}{os.sep}{slug}{os.sep}", names))
            if digest == cached.digest:
                result.folders[slug] = digest
                continue
        entry = result.posts[slug] = read_post(job, slug, names, cached)
        result.folders[slug] = entry.digest
    return result


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
        # Nothing cached may be a first build of a big site: that is worth a process.
        known = sum(entry.count for entry in job.cached.values())
        big = not job.cached or known >= BACKGROUND_THRESHOLD
        # Fork shares the cache with the child for free; other start methods would copy it.
        if big and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._connection, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(child_end, job), daemon=True)
            self._process.start()
            child_end.close()
            # The child's answer can be tens of megabytes, and a pipe holds 64 KiB: read it as
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
