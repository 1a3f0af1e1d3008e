"""The plugin's own cache, beside Pelican's content cache in CACHE_PATH.

It keeps, per post, what the post's comments came to under a digest of its comment files'
names, sizes and modification times: the thread's HTML, the Atom entries, the ids and
likes for comments.json, all ready to place, and the comments themselves as one pickled
blob. The blob is opened only when something needs the comments as objects (a post that
closed, a template walking `article.comments`, a changed file beside them), so an
unchanged rebuild reads no comment file, renders nothing and builds no comment object.

Two files: a small index (each post's digest and count), which the build reads first and
the reading process compares against, and the posts themselves (tens of megabytes on a
big site), which the kernel reads ahead from the disk while Pelican reads the posts.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import mmap
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
POSTS_FILE = "threaded_comments-posts.pickle"

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


class CommentCache:
    """Per-post results, under a fingerprint of the code and settings that made them.

    `index` (post slug -> digest and count) is there at once; `posts` is read ahead in
    the background and unpickled on first use.
    """

    def __init__(self, fingerprint: str, index: dict[str, tuple[bytes, int]] | None = None):
        self.fingerprint = fingerprint
        self.index = index or {}
        # Set when this build changed anything, so an unchanged rebuild writes nothing.
        self.dirty = False
        self._posts: dict[str, PostComments] | None = None if self.index else {}
        self._posts_file: mmap.mmap | None = None

    def read_posts_in_background(self, path: Path) -> None:
        """Have the kernel read the posts file ahead (if the index names any posts), while
        Pelican reads the posts; it is unpickled on the first use of `posts`."""
        if self._posts is not None:
            return
        try:
            with path.open("rb") as stream:
                self._posts_file = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # missing, or empty: its posts are read again
            return
        if hasattr(mmap, "MADV_WILLNEED"):  # Linux and most Unixes
            self._posts_file.madvise(mmap.MADV_WILLNEED)

    @property
    def posts(self) -> dict[str, PostComments]:
        """Post slug -> its cached comments."""
        if self._posts is None:
            self._posts = {}
            if self._posts_file is not None:
                with self._posts_file:
                    self._posts = _unpickle_posts(self._posts_file)
                self._posts_file = None
        return self._posts

    @posts.setter
    def posts(self, posts: dict[str, PostComments]) -> None:
        self._posts = posts
        self.index = {slug: (entry.digest, entry.count) for slug, entry in posts.items()}


def read_posts(path: Path) -> dict[str, PostComments]:
    """The posts file at `path` (none if it is missing or unreadable)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    return _unpickle_posts(data)


def _unpickle_posts(data: bytes | mmap.mmap) -> dict[str, PostComments]:
    try:
        # The file is this build's own output in the project's cache folder, as trusted
        # as Pelican's pickled content cache next to it.
        with no_gc():
            posts = pickle.loads(data)  # noqa: S301
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        logger.warning("threaded_comments: ignoring an unreadable cache of posts (%s)", error)
        return {}
    return posts if isinstance(posts, dict) else {}


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


def code_fingerprint(settings: dict[str, Any]) -> str:
    """A hash of this plugin's code and settings: any change to either empties the cache."""
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()


def cache_path(pelican_settings: dict[str, Any], name: str = CACHE_FILE) -> Path:
    return Path(pelican_settings["CACHE_PATH"]) / name


def load(pelican_settings: dict[str, Any], fingerprint: str) -> CommentCache:
    """The cache from the last build, or an empty one (first build, cache off, code changed).

    Only the index is read here: see CommentCache.read_posts_in_background.
    """
    path = cache_path(pelican_settings)
    if not pelican_settings.get("LOAD_CONTENT_CACHE") or not path.exists():
        return CommentCache(fingerprint)
    try:
        with path.open("rb") as stream:
            cached_fingerprint, index = pickle.load(stream)  # noqa: S301 (as above)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        logger.warning("threaded_comments: ignoring unreadable cache %s (%s)", path, error)
        return CommentCache(fingerprint)
    if cached_fingerprint != fingerprint or not isinstance(index, dict):
        return CommentCache(fingerprint)
    return CommentCache(fingerprint, index)


def save(pelican_settings: dict[str, Any], cache: CommentCache) -> None:
    """Store the cache if this build changed it: the posts first, then the index that
    points at them (a post whose entry does not match the index is read again)."""
    if not pelican_settings.get("CACHE_CONTENT") or not cache.dirty:
        return
    posts_path = cache_path(pelican_settings, POSTS_FILE)
    posts_path.parent.mkdir(parents=True, exist_ok=True)
    _write_pickle(posts_path, cache.posts)
    _write_pickle(cache_path(pelican_settings), (cache.fingerprint, cache.index))


def _write_pickle(path: Path, value: object) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as stream:
        pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
