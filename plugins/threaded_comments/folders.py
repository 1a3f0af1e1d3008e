"""Finding a site's comment folders, content/comments/<post-slug>/, and reading one.

Each folder's comment files are stamped (name, modification time, size) without being
read: the stamps are the cache's key, so an unchanged post's files are never opened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from pathlib import Path
from stat import S_ISREG

from .comment_file import (
    COMMENT_EXTENSIONS,
    CommentFile,
    CommentFileError,
    comment_id_from_name,
    read_comment_file,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommentFolder:
    """One post's comment folder: its comment files' names, sorted, and their stamp."""

    slug: str
    path: str
    names: tuple[str, ...]
    # Each file's mtime_ns and size, in the order of `names`. One flat tuple of ints, not
    # a (name, mtime, size) tuple a file: a big site's stamps are then a thousand objects,
    # not the twenty thousand more that the garbage collector walks, and the cache loads.
    stamp: tuple[int, ...]


# Where the platform can (POSIX), a comment file is stat'ed by its name in its open folder:
# the kernel then looks up one name, not every folder of the path, for each of a big
# site's twenty thousand files, on every build.
_STAT_IN_OPEN_FOLDER = os.stat in os.supports_dir_fd and os.listdir in os.supports_fd


@contextmanager
def _open_folder(folder: str) -> Iterator[tuple[list[str], Callable[[str], os.stat_result]]]:
    """The names in `folder`, and a function that stats one of its files, given its name."""
    if not _STAT_IN_OPEN_FOLDER:
        prefix = folder + os.sep
        # Strings, not Paths: a Path a file would cost more than its stat.
        yield os.listdir(folder), lambda name: os.stat(prefix + name)  # noqa: PTH116, PTH208
        return
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        yield os.listdir(folder_fd), partial(os.stat, dir_fd=folder_fd)  # noqa: PTH208
    finally:
        os.close(folder_fd)


def _stamp_comment_files(folder: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    # A plain loop over names: it runs for every comment file on every build, where
    # DirEntry objects and Paths would cost more than the stat itself.
    names: list[str] = []
    stamp: list[int] = []
    with _open_folder(folder) as (all_names, stat_name):
        for name in sorted(all_names):
            # Hidden files are an editor's or a write in progress (atomic_write's temp files).
            if name.startswith("."):
                continue
            status = stat_name(name) if name.endswith(COMMENT_EXTENSIONS) else None
            if status is None or not S_ISREG(status.st_mode):
                logger.warning(
                    "threaded_comments: skipping %s (not a .md or .markdown comment file)",
                    Path(folder, name),
                )
                continue
            names.append(name)
            stamp += (status.st_mtime_ns, status.st_size)
    _check_one_file_per_id(folder, names)
    return tuple(names), tuple(stamp)


def _check_one_file_per_id(folder: str, names: list[str]) -> None:
    """Raise CommentFileError for `a.md` beside `a.markdown`."""
    # A comment file's id is its name up to the last dot: the quick check.
    if len({name.rpartition(".")[0] for name in names}) == len(names):
        return
    # Comment id -> file name.
    seen: dict[str | None, str] = {}
    for name in names:
        comment_id = comment_id_from_name(name)
        if comment_id in seen:
            raise CommentFileError(
                Path(folder, name), f"has the same comment id as {Path(folder, seen[comment_id])}"
            )
        seen[comment_id] = name


def find_comment_folders(root: Path) -> dict[str, CommentFolder]:
    """Post slug -> its comment folder, for every folder under `root` holding comment files.

    A folder without any is left out, as git leaves out an empty folder.
    """
    folders: dict[str, CommentFolder] = {}
    if not root.is_dir():
        return folders
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if not entry.is_dir():
                logger.warning("threaded_comments: skipping %s (not in a post folder)", entry.path)
                continue
            names, stamp = _stamp_comment_files(entry.path)
            if names:
                folders[entry.name] = CommentFolder(entry.name, entry.path, names, stamp)
    return folders


def comment_file_paths(folder: CommentFolder) -> list[str]:
    """The paths of the folder's comment files, in file-name order."""
    # Joined as strings: a Path per comment would cost more than parsing the file.
    prefix = f"{folder.path}{os.sep}"
    return [prefix + name for name in folder.names]


def read_comment_folder(folder: CommentFolder, timezone: tzinfo) -> list[tuple[str, CommentFile]]:
    """Every comment file of the folder, parsed, in file-name order, with its path."""
    return [(path, read_comment_file(path, timezone)) for path in comment_file_paths(folder)]
