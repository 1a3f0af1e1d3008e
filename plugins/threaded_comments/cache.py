"""The plugin's own cache, beside Pelican's content cache in CACHE_PATH.

It keeps, per post, the thread and its HTML under a key made of the comment files'
names, sizes and modification times, and the rendered body of every comment under the
hash of its text: an unchanged rebuild reads no comment file and renders nothing, and a
new comment costs one render.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_FILE = "threaded_comments.pickle"


@dataclass
class PostEntry:
    """What a post's comments came to the last time its files looked like `key`."""

    key: tuple
    top_level: list
    html: str
    content_keys: list[str]


@dataclass
class CommentCache:
    """Rendered bodies by content hash, and per-post results."""

    fingerprint: str = ""
    rendered: dict[str, str] = field(default_factory=dict)
    posts: dict[str, PostEntry] = field(default_factory=dict)


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
        with path.open("rb") as stream:
            # The file is this build's own output in the project's cache folder, as
            # trusted as Pelican's pickled content cache next to it.
            cached = pickle.load(stream)  # noqa: S301
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        logger.warning("threaded_comments: ignoring unreadable cache %s (%s)", path, error)
        return CommentCache(fingerprint)
    if not isinstance(cached, CommentCache) or cached.fingerprint != fingerprint:
        return CommentCache(fingerprint)
    return cached


def save(pelican_settings: dict[str, Any], cache: CommentCache, used_keys: set[str]) -> None:
    """Store the cache, keeping only bodies this build used so it never grows stale."""
    if not pelican_settings.get("CACHE_CONTENT"):
        return
    cache.rendered = {key: cache.rendered[key] for key in used_keys if key in cache.rendered}
    path = cache_path(pelican_settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as stream:
        pickle.dump(cache, stream, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
