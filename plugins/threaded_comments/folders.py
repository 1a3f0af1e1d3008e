"""Finding a site's comment folders, content/comments/<post-slug>/, and reading one.

Each folder's comment files are stamped (name, modification time, size) without being
read: the stamps are the cache's key, so an unchanged post's files are never opened.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import tzinfo
from operator import attrgetter
from pathlib import Path

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
    path: Path
    names: tuple[str, ...]
    # Each file's mtime_ns and size, in the order of `names`. One flat tuple of ints, not
    # a (name, mtime, size) tuple a file: a big site's stamps are then a thousand objects,
    # not the twenty thousand more that the garbage collector walks, and the cache loads.
    stamp: tuple[int, ...]


def _stamp_comment_files(folder: os.DirEntry[str]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    files = []
    with os.scandir(folder.path) as entries:
        for entry in entries:
            name = entry.name
            # Hidden files are an editor's or a write in progress (atomic_write's temp files).
            if name.startswith("."):
                continue
            if not name.endswith(COMMENT_EXTENSIONS) or not entry.is_file():
                logger.warning(
                    "threaded_comments: skipping %s (not a .md or .markdown comment file)",
                    entry.path,
                )
                continue
            files.append(entry)
    files.sort(key=attrgetter("name"))
    names = tuple(entry.name for entry in files)
    _check_one_file_per_id(folder, names)
    stamp: list[int] = []
    for entry in files:
        status = entry.stat()
        stamp += (status.st_mtime_ns, status.st_size)
    return names, tuple(stamp)


def _check_one_file_per_id(folder: os.DirEntry[str], names: tuple[str, ...]) -> None:
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
                Path(folder.path) / name,
                f"has the same comment id as {Path(folder.path) / seen[comment_id]}",
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
            names, stamp = _stamp_comment_files(entry)
            if names:
                folders[entry.name] = CommentFolder(entry.name, Path(entry.path), names, stamp)
    return folders


def comment_file_paths(folder: CommentFolder) -> list[str]:
    """The paths of the folder's comment files, in file-name order."""
    # Joined as strings: a Path per comment would cost more than parsing the file.
    prefix = f"{folder.path}{os.sep}"
    return [prefix + name for name in folder.names]


def read_comment_folder(folder: CommentFolder, timezone: tzinfo) -> list[tuple[str, CommentFile]]:
    """Every comment file of the folder, parsed, in file-name order, with its path."""
    return [(path, read_comment_file(path, timezone)) for path in comment_file_paths(folder)]
