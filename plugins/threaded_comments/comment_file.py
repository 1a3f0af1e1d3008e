"""The comment file: `content/comments/<post-slug>/<comment-id>.md`, its one parser and writer.

This module is the contract's owner. The plugin reads comment files with it, `invoke
moderate` writes and rewrites them with it, and the WordPress importer writes them with it.
The layout is pelican-comment-system's, so a blog that used that plugin keeps its files:

    author: Juniper
    date: 2016-03-16T15:00:00+00:00
    replyto: c003                   (absent for a top-level comment; `c003.md` also works)
    website: https://juniper.example.net   (optional; see `website_problem`)
    likes: 2                        (optional)
    author_role: author             (optional: the blog's author, shown with a badge)

    The body, in Markdown.

The file name is the comment's id, unique within its post. An `email:` line (which
pelican-comment-system writes) is read past and never kept, so it cannot reach a page,
and the writer never writes one.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

from pelican.utils import get_date

COMMENT_EXTENSIONS = (".md", ".markdown")
# Ids and post slugs are file names: safe characters only.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
WEBSITE_MAX = 200
# A header line is `key: value`, the key an identifier ("Author" reads as "author").
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Characters a website may not hold: they would end an attribute or a header line.
_WEBSITE_FORBIDDEN = frozenset("\"'<>\\`{}|^")
# Fields the writer knows, in the order it writes them; a parsed file keeps only these.
FIELDS = ("author", "date", "replyto", "website", "likes", "author_role")


class CommentFileError(ValueError):
    """A comment file that cannot be published as it is; the message names the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Keeps the (path, problem) pair when the error is pickled.
        return (type(self), (self.path, self.problem))


@dataclass(frozen=True, slots=True)
class CommentFile:
    """One published comment as its file holds it: public fields only."""

    id: str
    author: str
    date: datetime
    body: str
    replyto: str | None = None
    website: str | None = None
    likes: int = 0
    author_role: str | None = None

    @property
    def is_author(self) -> bool:
        """Whether the blog's author wrote it (shown with an "Author" badge)."""
        return self.author_role == "author"

    def __reduce__(self) -> tuple[type, tuple]:
        # Unpickled through __init__, several times faster than a frozen dataclass's own
        # __setstate__: the plugin's cache holds every comment of a site.
        return (type(self), tuple(getattr(self, name) for name in _FIELD_NAMES))


_FIELD_NAMES = tuple(field.name for field in fields(CommentFile))


def website_problem(url: str) -> str | None:
    """Why `url` may not be a commenter's website, or None if it may.

    The one website rule: the intake refuses with this reason, publishing and the importer
    keep only what passes it, and the plugin reads only what passes it, so a website the
    intake accepted always builds. An http(s) URL with a host, at most WEBSITE_MAX
    characters, with no space, control character or character that could end an HTML
    attribute.
    """
    if len(url) > WEBSITE_MAX:
        return f"is longer than {WEBSITE_MAX} characters"
    if url.isascii():
        # The common case, without a look-up per character: the only ASCII characters of
        # the categories below are the control characters, which are not printable.
        allowed = url.isprintable() and " " not in url and _WEBSITE_FORBIDDEN.isdisjoint(url)
    else:
        allowed = not any(
            character.isspace()
            or character in _WEBSITE_FORBIDDEN
            or unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn")
            for character in url
        )
    if not allowed:
        return "contains spaces, quotes, angle brackets or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "must start with http:// or https:// and name a host"
    return None


def comment_id_from_name(name: str) -> str | None:
    """The id a comment file's name stands for, or None if it is not a comment file's name."""
    for extension in COMMENT_EXTENSIONS:
        if name.endswith(extension):
            return name[: -len(extension)]
    return None


def comment_path(comments_dir: Path, post_slug: str, comment_id: str) -> Path:
    """Where a comment's file lives: <comments dir>/<post slug>/<comment id>.md."""
    return comments_dir / post_slug / f"{comment_id}.md"


def _split_header(path: Path | str, text: str) -> tuple[dict[str, str], str]:
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    header, _, body = text.lstrip("\n").partition("\n\n")
    metadata: dict[str, str] = {}
    last_key = None
    for number, line in enumerate(header.split("\n"), start=1):
        if line[:1] in (" ", "\t") and last_key is not None:
            # An indented line continues the value above, as in Pelican's Markdown reader.
            metadata[last_key] += " " + line.strip()
            continue
        key, colon, value = line.partition(":")
        key = key.rstrip()
        if not colon or not _KEY.fullmatch(key):
            raise CommentFileError(path, f"line {number} is not 'key: value': {line[:60]!r}")
        last_key = key.lower()
        if last_key in metadata:
            raise CommentFileError(path, f"'{last_key}' is given twice")
        metadata[last_key] = value.strip()
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


def parse_comment_file(path: Path | str, text: str, timezone: tzinfo) -> CommentFile:
    """Parse and check one comment file's text; raise CommentFileError naming `path`."""
    comment_id = comment_id_from_name(str(path).rpartition(os.sep)[2])
    if comment_id is None or not ID_PATTERN.fullmatch(comment_id):
        raise CommentFileError(
            path, "the file name (the comment id) may hold only letters, digits, '.', '_', '-'"
        )
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
    if website is not None and (problem := website_problem(website)):
        raise CommentFileError(
            path, f"website must be an http or https URL ({website!r} {problem})"
        )

    likes = metadata.get("likes", "0") or "0"
    if not likes.isdigit():
        raise CommentFileError(path, f"likes must be a whole number >= 0, not {likes!r}")

    author_role = metadata.get("author_role") or None
    if author_role not in (None, "author"):
        raise CommentFileError(path, f"author_role may only be 'author', not {author_role!r}")

    return CommentFile(
        id=comment_id,
        author=author,
        date=date,
        body=body,
        replyto=replyto,
        website=website,
        likes=int(likes),
        author_role=author_role,
    )


_READ_SIZE = 1 << 16


def _read_bytes(path: Path | str) -> bytes:
    # os.open and os.read skip the buffered layer a Python file object builds: a third of
    # the time on a site's twenty thousand small files. A regular file reads short only at
    # its end, so a comment file takes one read, not a second one that finds nothing.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(descriptor, _READ_SIZE)]
        while len(chunks[-1]) == _READ_SIZE:
            chunks.append(os.read(descriptor, _READ_SIZE))
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_comment_file(path: Path | str, timezone: tzinfo) -> CommentFile:
    """Read and parse one comment file; raise CommentFileError naming it if it is wrong."""
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommentFileError(path, "is not UTF-8 text") from error
    return parse_comment_file(path, text, timezone)


def _one_line(value: str) -> str:
    # A line break in a header value would start a new metadata field.
    return " ".join(value.split())


def format_comment_file(comment: CommentFile) -> str:
    """The file's text for `comment`: its public fields, a blank line, then the body.

    Raises ValueError for what `parse_comment_file` would refuse, so nothing that cannot
    be built is ever written.
    """
    if not ID_PATTERN.fullmatch(comment.id):
        raise ValueError(f"{comment.id!r} is not a valid comment id")
    if comment.website is not None and (problem := website_problem(comment.website)):
        raise ValueError(f"website {comment.website!r} {problem}")
    body = comment.body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not body.strip() or not _one_line(comment.author):
        raise ValueError(f"comment {comment.id!r} needs an author and a body")
    lines = [f"author: {_one_line(comment.author)}", f"date: {comment.date.isoformat()}"]
    if comment.replyto:
        lines.append(f"replyto: {comment.replyto}")
    if comment.website:
        lines.append(f"website: {comment.website}")
    if comment.likes:
        lines.append(f"likes: {comment.likes}")
    if comment.author_role:
        lines.append(f"author_role: {comment.author_role}")
    return "\n".join(lines) + "\n\n" + body + "\n"
