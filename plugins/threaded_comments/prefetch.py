"""Reading and rendering comment files, in a second process while Pelican reads the posts.

Started when the articles generator is created and collected once it has read every
post, so on a machine with two cores a cold build pays little for its comments. Small
jobs (an unchanged rebuild, a new comment or two) run in-process instead: a fork costs
more than they do.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .cache import Record, to_record
from .reader import read_comment
from .rendering import content_key, render_comment_markdown

# Below this many files to read, forking a process costs more than it saves.
BACKGROUND_THRESHOLD = 300

# Post slug -> its comment records; content key -> rendered HTML of bodies new to the cache.
Result = tuple[dict[str, list[Record]], dict[str, str]]


def read_posts(
    root: Path, wanted: dict[str, list[str]], timezone_key: str, rendered: dict[str, str]
) -> Result:
    """Read and check the `wanted` files of each post; render bodies not in `rendered`."""
    timezone = ZoneInfo(timezone_key)
    records: dict[str, list[Record]] = {}
    new: dict[str, str] = {}
    for slug, names in wanted.items():
        post_records = []
        for name in names:
            comment = read_comment(root / slug / name, slug, timezone)
            key = content_key(comment.body)
            if key not in rendered and key not in new:
                new[key] = render_comment_markdown(comment.body)
            post_records.append(to_record(comment, key))
        records[slug] = post_records
    return records, new


def _child(connection: Connection, arguments: tuple[Any, ...]) -> None:
    try:
        connection.send(("ok", read_posts(*arguments)))
    except Exception as error:  # every failure goes back to the build, which reports it
        connection.send(("error", error))
    finally:
        connection.close()


class Prefetch:
    """read_posts(...) under way: in a forked process when the job is big enough."""

    def __init__(
        self, root: Path, wanted: dict[str, list[str]], timezone_key: str, rendered: dict
    ) -> None:
        self._arguments = (root, wanted, timezone_key, rendered)
        self._process: multiprocessing.Process | None = None
        files = sum(len(names) for names in wanted.values())
        # Fork shares the cache with the child for free; other start methods would copy it.
        if files >= BACKGROUND_THRESHOLD and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._connection, child_end = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_child, args=(child_end, self._arguments), daemon=True
            )
            self._process.start()
            child_end.close()

    def result(self) -> Result:
        """The records and new renders; re-raises a CommentFileError from the child."""
        if self._process is None:
            return read_posts(*self._arguments)
        try:
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
