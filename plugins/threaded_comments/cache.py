"""The plugin's own cache, beside Pelican's content cache in CACHE_PATH.

It keeps, per post, what the post's comments came to under a digest of its comment files'
names, sizes and modification times: the thread's HTML, the Atom entries, the ids and
likes for comments.json, all ready to place, and the comments themselves as one pickled
blob. The blob is opened only when something needs the comments as objects (a post that
closed, a template walking `article.comments`, a changed file beside them), so an
unchanged rebuild reads no comment file, renders nothing and builds no comment object:
loading the cache is mostly copying long strings.
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
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .reader import Comment

logger = logging.getLogger(__name__)

CACHE_FILE = "threaded_comments.pickle"

# A comment as stored: (id, author, ISO date, body, replyto, website, likes, author_role,
# source path, content key, rendered body). Plain tuples unpickle many times faster than
# objects.
Record = tuple[str, str, str, str, str | None, str | None, int, str | None, str, str, str]
# A comment as an Atom entry: (UTC timestamp, ISO date, <entry> with stand-ins for the
# post's title and URL).
FeedEntry = tuple[float, str, str]


@dataclass
class PostComments:
    """What a post's comments came to the last time its files' digest was `digest`."""

    digest: bytes = b""
    count: int = 0
    # pickle of the post's Records, in file-name order; b"" when it has no comments.
    records: bytes = b""
    # The thread's HTML, valid while (comments open, timezone) stay `html_key`.
    html_key: tuple = ()
    html: str = ""
    # The Atom entries, newest first.
    entries: list[FeedEntry] = field(default_factory=list)
    # Comment id -> likes, in file-name order: the post's part of comments.json.
    likes: dict[str, int] = field(default_factory=dict)
    # The post's feed as last written: its inputs (title, URLs, date, digest) and size.
    feed_key: tuple = ()
    feed_size: int = -1


@dataclass
class CommentCache:
    """Per-post results, under a fingerprint of the code and settings that made them."""

    fingerprint: str = ""
    posts: dict[str, PostComments] = field(default_factory=dict)
    # Set when this build changed anything, so an unchanged rebuild writes nothing.
    dirty: bool = False


def to_record(comment: Comment, content_key: str) -> Record:
    """A comment (with its rendered `content`) as the cache stores it."""
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
        comment.content,
    )


def pack_records(records: list[Record]) -> bytes:
    """A post's records as the blob PostComments keeps."""
    return pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_records(entry: PostComments) -> list[Record]:
    """The records in `entry`'s blob (none for a post without comments)."""
    # The blob is this plugin's own output, as trusted as the cache file it came in.
    return pickle.loads(entry.records) if entry.records else []  # noqa: S301


def rendered_bodies(entry: PostComments | None) -> dict[str, str]:
    """Content key -> rendered body, for the comments in `entry` (if any)."""
    if entry is None:
        return {}
    return {record[9]: record[10] for record in unpack_records(entry)}


def post_comments(entry: PostComments, post: str) -> list[Comment]:
    """The comments `entry` holds, as Comment objects in file-name order."""
    comments = []
    for record in unpack_records(entry):
        comment_id, author, date, body, replyto, website, likes, role, source, _, html = record
        comments.append(
            Comment(
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
                content=html,
            )
        )
    return comments


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


# The libraries whose output the cache keeps: an upgrade (a sanitiser fix, say) must not
# leave HTML it made before in place.
RENDERING_LIBRARIES = ("markdown-it-py", "nh3")


def code_fingerprint(settings: dict[str, Any]) -> str:
    """A hash of this plugin's code, the renderer libraries' versions and the settings:
    any change to one of them empties the cache."""
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for library in RENDERING_LIBRARIES:
        digest.update(f"{library}=={version(library)}".encode())
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


def save(pelican_settings: dict[str, Any], cache: CommentCache) -> None:
    """Store the cache if this build changed it."""
    if not pelican_settings.get("CACHE_CONTENT") or not cache.dirty:
        return
    path = cache_path(pelican_settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as stream:
        pickle.dump(cache, stream, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
