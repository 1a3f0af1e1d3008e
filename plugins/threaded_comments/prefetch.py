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
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
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
        big = job.wanted is None or sum(map(len, job.wanted.values())) >= BACKGROUND_THRESHOLD
        # Fork shares the cache with the child for free; other start methods would copy it.
        if big and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._connection, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(child_end, job), daemon=True)
            self._process.start()
            child_end.close()

    def result(self) -> Result:
        """The job's result; re-raises a CommentFileError from the child."""
        if self._process is None:
            return run(self._job)
        try:
            with no_gc():
                status, value = self._connection.recv()
        except EOFError as error:
            raise RuntimeError("threaded_comments: the comment reader process died") from error
        finally:
            self.close()
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop the child process, if any (after an error elsewhere in the build)."""
        if self._process is not None:
            self._connection.close()
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None
