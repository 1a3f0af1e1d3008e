"""The plugin's cache, modelled on Pelican's FileStampDataCacher and built on its base class.

Pelican's content cache keeps each file's data under the file's stamp. Here each post's
comments are kept under the post's stamp: its comment files' (name, mtime_ns, size) and
the post's own parts that reach the thread or the feeds (title, URL, open or closed). The
whole cache is dropped when the plugin's code, the thread template, the settings or a
renderer library's version changes, or when the template makes another thread of the same
sample comments (a filter another plugin adds has a new key, say). It lives in CACHE_PATH
beside Pelican's, and follows CACHE_CONTENT (store) and LOAD_CONTENT_CACHE (load).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Hashable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pelican.cache import FileDataCacher

logger = logging.getLogger(__name__)

CACHE_NAME = "threaded_comments.pickle"
# The libraries whose output the cache keeps: an upgrade (a sanitiser fix, say) must not
# leave HTML it made before in place.
RENDERING_LIBRARIES = ("markdown-it-py", "cmarkgfm", "nh3", "jinja2")
# Tuples, so that no URL can be mistaken for them.
_FINGERPRINT_KEY = ("fingerprint",)
_SITE_FILES_KEY = ("site files",)


def code_fingerprint(options: dict[str, Any], *sources: str) -> str:
    """A hash of this plugin's code, the renderer libraries' versions, the plugin's
    settings and `sources` (the thread template's text, the time zone, a sample thread)."""
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for library in RENDERING_LIBRARIES:
        digest.update(f"{library}=={version(library)}".encode())
    digest.update(repr(sorted(options.items())).encode())
    for source in sources:
        digest.update(source.encode())
    return digest.hexdigest()


class CommentCache(FileDataCacher):
    """Each post's comments (whatever the build stores) under the post's stamp, keyed by
    the post's URL."""

    def __init__(self, settings: dict[str, Any], fingerprint: str) -> None:
        # Not gzipped, whatever GZIP_CACHE says: at the default level, compressing a big
        # site's threads costs seconds a build, and the file is read on every build.
        settings = {**settings, "GZIP_CACHE": False}
        policies = (settings["CACHE_CONTENT"], settings["LOAD_CONTENT_CACHE"])
        try:
            super().__init__(settings, CACHE_NAME, *policies)
        except (AttributeError, ImportError, EOFError, ValueError, TypeError) as error:
            # A cache written by another version of the plugin (Pelican catches only
            # OSError and PickleError): start afresh.
            logger.warning("threaded_comments: ignoring the cache of another version (%s)", error)
            super().__init__(settings, CACHE_NAME, policies[0], load_policy=False)
        if not isinstance(self._cache, dict):
            self._cache = {}
        if self._cache.get(_FINGERPRINT_KEY) != fingerprint:
            self._cache = {_FINGERPRINT_KEY: fingerprint}
        self._fingerprint = fingerprint
        # This build's entries: posts that are gone are not stored again.
        self._used: dict[str, tuple[Hashable, Any]] = {}
        self._site_files = self._cache.get(_SITE_FILES_KEY)
        # Whether a post was made anew in this build, and whether anything is to be saved.
        self._stored_a_post = False
        self._changed = False

    def get_post(self, url: str, stamp: Hashable) -> Any:
        """What was stored for the post under this stamp, or None."""
        cached = self._cache.get(url)
        if cached is None or cached[0] != stamp:
            return None
        self._used[url] = cached
        return cached[1]

    def store_post(self, url: str, stamp: Hashable, data: Any) -> None:
        self._used[url] = (stamp, data)
        self._stored_a_post = self._changed = True

    def update_post(self, url: str, data: Any) -> None:
        """Replace what this build stored or found for the post, under the same stamp."""
        self._used[url] = (self._used[url][0], data)
        self._changed = True

    def site_files_current(self, inputs: Hashable, stamps: tuple[Any, ...]) -> bool:
        """Whether the site-wide files are as the last build made them from the same inputs:
        no post was made anew in this build (each one's data is the last build's), the
        other `inputs` are the same, and the files' `stamps` are as recorded then."""
        return not self._stored_a_post and self._site_files == (inputs, stamps)

    def record_site_files(self, inputs: Hashable, stamps: tuple[Any, ...]) -> None:
        """What the site-wide files were just made of, and their stamps once written."""
        self._site_files = (inputs, stamps)
        self._changed = True

    def save(self) -> None:
        """Store this build's posts, if anything changed since the cache was loaded."""
        posts = self._cache.keys() - {_FINGERPRINT_KEY, _SITE_FILES_KEY}
        if not self._changed and self._used.keys() == posts:
            return
        self._cache = {
            _FINGERPRINT_KEY: self._fingerprint,
            _SITE_FILES_KEY: self._site_files,
            **self._used,
        }
        self.save_cache()
