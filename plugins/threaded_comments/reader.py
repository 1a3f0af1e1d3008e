"""Reading content/comments/<post-slug>/<comment-id>.md into Comment records, checked.

The layout is pelican-comment-system's: Pelican-style `key: value` lines, a blank line,
then the Markdown body. Its `replyto: c003.md` spelling and `email:` lines are accepted;
the email is dropped here so it cannot reach a page.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from pelican.utils import get_date

from .comment_file import CommentFileError

logger = logging.getLogger(__name__)

COMMENT_EXTENSIONS = (".md", ".markdown")
# A post's comment files: (file name, mtime_ns, size) sorted by name; the cache's key.
Stamps = list[tuple[str, int, int]]
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Most comment files are read whole by the first read.
_READ_SIZE = 1 << 16
# What a comment file's `website` may be; the WordPress importer keeps only what passes it.
WEBSITE_PATTERN = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
_KEY_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*:\s?(.*)")


@dataclass(slots=True)
class Comment:
    """One published comment, and (once threaded) its place in the discussion."""

    id: str
    post: str
    author: str
    date: datetime
    body: str
    replyto: str | None = None
    website: str | None = None
    likes: int = 0
    author_role: str | None = None
    source_path: str = ""
    # Filled in after reading: the safe HTML of the body, and the thread position.
    content: str = ""
    depth: int = 1
    in_reply_to: str | None = None
    replies: list[Comment] = field(default_factory=list)

    @property
    def is_author(self) -> bool:
        """Whether the blog's author wrote it (shown with an "Author" badge)."""
        return self.author_role == "author"


def comment_id_from_name(name: str) -> str | None:
    """The id a comment file name stands for, or None if the name is not a comment file."""
    for extension in COMMENT_EXTENSIONS:
        if name.endswith(extension):
            return name[: -len(extension)]
    return None


def list_folders(root: Path) -> dict[str, list[str]]:
    """Post slug -> the names of its comment files under `root`, sorted."""
    folders: dict[str, list[str]] = {}
    if not root.is_dir():
        return folders
    with os.scandir(root) as folder_entries:
        for folder in folder_entries:
            if not folder.is_dir():
                logger.warning("threaded_comments: ignoring %s (not in a post folder)", folder.path)
                continue
            with os.scandir(folder.path) as entries:
                names = [entry.name for entry in entries if comment_id_from_name(entry.name)]
            folders[folder.name] = sorted(names)
    return folders


def stamp_files(folder: str, names: list[str]) -> Stamps:
    """The Stamps of the files `names` in `folder` (a path ending in a separator)."""
    stamps = []
    for name in names:
        status = os.stat(folder + name)  # noqa: PTH116 (a Path per file costs more)
        stamps.append((name, status.st_mtime_ns, status.st_size))
    return stamps


def stamps_digest(stamps: Stamps) -> bytes:
    """A short key that changes whenever a post's comment files do."""
    return hashlib.blake2b(repr(stamps).encode(), digest_size=16).digest()


def check_unique_ids(root: Path, folders: dict[str, list[str]]) -> None:
    """Raise CommentFileError for a comment id used twice, in one post or two."""
    owners: dict[str, tuple[str, str]] = {}
    for slug in sorted(folders):
        for name in folders[slug]:
            comment_id = comment_id_from_name(name)
            if comment_id in owners:
                first_slug, first_name = owners[comment_id]
                raise CommentFileError(
                    root / slug / name,
                    f"duplicate comment id (also {root / first_slug / first_name})",
                )
            owners[comment_id] = (slug, name)


def _read_bytes(path: str, stamps: Stamps | None) -> bytes:
    # os.open and os.read skip the buffered and text layers a Python file object builds:
    # on twenty thousand small files that is a tenth of the reading time.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        if stamps is not None:
            # The open file's own stamp costs less than a stat by name, and belongs to
            # exactly the text read.
            status = os.fstat(descriptor)
            stamps.append((path.rpartition(os.sep)[2], status.st_mtime_ns, status.st_size))
        data = os.read(descriptor, _READ_SIZE)
        if len(data) < _READ_SIZE:
            return data
        chunks = [data]
        while chunk := os.read(descriptor, _READ_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _split_header(path: Path | str, text: str) -> tuple[dict[str, str], str]:
    text = text.lstrip("\ufeff")
    if "\r" in text:  # rare, and two replaces over every file are not free
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\n")
    header, _, body = text.partition("\n\n")
    metadata: dict[str, str] = {}
    last_key = None
    for number, line in enumerate(header.split("\n"), start=1):
        if line[:1] in (" ", "\t") and last_key is not None:
            # An indented line continues the value above, as in Pelican's Markdown reader.
            metadata[last_key] += " " + line.strip()
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            raise CommentFileError(path, f"line {number} is not 'key: value': {line[:60]!r}")
        last_key = match.group(1).lower()
        if last_key in metadata:
            raise CommentFileError(path, f"'{last_key}' is given twice")
        metadata[last_key] = match.group(2).strip()
    return metadata, body.strip("\n")


def _parse_date(path: Path | str, value: str, timezone: tzinfo) -> datetime:
    try:
        date = datetime.fromisoformat(value)
    except ValueError:
        # Pelican's own parser takes the looser spellings older plugins wrote.
        try:
            date = get_date(value)
        except (ValueError, OverflowError) as error:
            raise CommentFileError(path, f"bad date {value!r}") from error
    # A date without an offset is in the site's TIMEZONE, as Pelican reads post dates.
    return date if date.tzinfo else date.replace(tzinfo=timezone)


def read_comment(
    path: Path | str, post: str, timezone: tzinfo, stamps: Stamps | None = None
) -> Comment:
    """Parse and check one comment file; raise CommentFileError naming it if it is wrong.

    With `stamps`, the file's (name, mtime_ns, size) as it was read is appended to it.
    """
    comment_id = comment_id_from_name(str(path).rpartition(os.sep)[2])
    if comment_id is None or not _ID_PATTERN.fullmatch(comment_id):
        raise CommentFileError(
            path, "the file name (the comment id) may hold only letters, digits, '.', '_', '-'"
        )
    try:
        text = _read_bytes(str(path), stamps).decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommentFileError(path, "is not UTF-8 text") from error
    metadata, body = _split_header(path, text)

    author = metadata.get("author", "")
    if not author:
        raise CommentFileError(path, "missing 'author'")
    if not metadata.get("date"):
        raise CommentFileError(path, "missing 'date'")
    date = _parse_date(path, metadata["date"], timezone)
    if not body.strip():
        raise CommentFileError(path, "missing body (the text after the blank line)")

    replyto = metadata.get("replyto") or None
    if replyto is not None:
        # pelican-comment-system names the parent by its file name.
        replyto = comment_id_from_name(replyto) or replyto

    website = metadata.get("website") or None
    if website is not None and not WEBSITE_PATTERN.fullmatch(website):
        raise CommentFileError(path, f"website must be an http or https URL, not {website!r}")

    likes_text = metadata.get("likes", "0") or "0"
    if not likes_text.isdigit():
        raise CommentFileError(path, f"likes must be a whole number >= 0, not {likes_text!r}")

    author_role = metadata.get("author_role") or None
    if author_role not in (None, "author"):
        raise CommentFileError(path, f"author_role may only be 'author', not {author_role!r}")

    return Comment(
        id=comment_id,
        post=post,
        author=author,
        date=date,
        body=body,
        replyto=replyto,
        website=website,
        likes=int(likes_text),
        author_role=author_role,
        source_path=str(path),
    )
