"""The plugin's own cache, beside Pelican's content cache in CACHE_PATH.

It keeps, per post, the comments and the thread's HTML under a key made of the comment
files' names, sizes and modification times, and the rendered body of every comment under
the hash of its text: an unchanged rebuild reads no comment file and renders nothing, and
a new comment costs one render. Comments are stored as plain tuples, which unpickle many
times faster than objects.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .reader import Comment

logger = logging.getLogger(__name__)

CACHE_FILE = "threaded_comments.pickle"


# A comment as stored: (id, author, ISO date, body, replyto, website, likes, author_role,
# source path, content key).
Record = tuple[str, str, str, str, str | None, str | None, int, str | None, str, str]


@dataclass
class PostEntry:
    """What a post's comments came to the last time its files looked like `key`."""

    key: tuple
    records: list[Record]
    # The thread's HTML, valid while (comments open, timezone) stay `html_key`.
    html_key: tuple = ()
    html: str = ""
    # The post's comments as Atom entries (feeds.post_entries_xml), and its whole feed,
    # valid while the post's title and URLs stay `feed_key`.
    feed_entries: str = ""
    feed_key: tuple = ()
    feed: str = ""


@dataclass
class CommentCache:
    """Rendered bodies by content hash, and per-post results."""

    fingerprint: str = ""
    rendered: dict[str, str] = field(default_factory=dict)
    posts: dict[str, PostEntry] = field(default_factory=dict)
    # Set when this build changed anything, so an unchanged rebuild writes nothing.
    dirty: bool = False


def to_record(comment: Comment, content_key: str) -> Record:
    """A comment as the cache stores it."""
    return (
        comment.id,
        comment.author,
        comment.date.isoformat(),
        comment.body,
        comment.replyto,
        comment.website,
        comment.likes,
        comment.author_role,
        comment.source_path,
        content_key,
    )


def from_record(record: Record, post: str, rendered: dict[str, str]) -> Comment:
    """The comment a record stands for, with its rendered body."""
    comment_id, author, date, body, replyto, website, likes, role, source, key = record
    return Comment(
        id=comment_id,
        post=post,
        author=author,
        date=datetime.fromisoformat(date),
        body=body,
        replyto=replyto,
        website=website,
        likes=likes,
        author_role=role,
        source_path=source,
        content=rendered[key],
    )


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cycle collector while unpickling many objects (none of them cyclic).

    Each burst of allocations would otherwise start a collection over Pelican's whole heap.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def code_fingerprint(settings: dict[str, Any]) -> str:
    """A hash of this plugin's code and settings: any change to either empties the cache."""
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()


def cache_path(pelican_settings: dict[str, Any]) -> Path:
    return Path(pelican_settings["CACHE_PATH"]) / CACHE_FILE


def load(pelican_settings: dict[str, Any], fingerprint: str) -> CommentCache:
    """The cache from the last build, or an empty one (first build, cache off, code changed)."""
    path = cache_path(pelican_settings)
    if not pelican_settings.get("LOAD_CONTENT_CACHE") or not path.exists():
        return CommentCache(fingerprint)
    try:
        # The file is this build's own output in the project's cache folder, as trusted
        # as Pelican's pickled content cache next to it.
        with path.open("rb") as stream, no_gc():
            cached = pickle.load(stream)  # noqa: S301
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        logger.warning("threaded_comments: ignoring unreadable cache %s (%s)", path, error)
        return CommentCache(fingerprint)
    if not isinstance(cached, CommentCache) or cached.fingerprint != fingerprint:
        return CommentCache(fingerprint)
    cached.dirty = False
    return cached


def save(pelican_settings: dict[str, Any], cache: CommentCache, used_keys: set[str]) -> None:
    """Store the cache if it changed, keeping only bodies this build used."""
    if not pelican_settings.get("CACHE_CONTENT"):
        return
    if not cache.dirty and len(cache.rendered) == len(used_keys):
        return
    cache.rendered = {key: cache.rendered[key] for key in used_keys if key in cache.rendered}
    path = cache_path(pelican_settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as stream:
        pickle.dump(cache, stream, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
