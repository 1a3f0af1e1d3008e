"""What a comment or like may point at: the posts and comment ids in comments.json.

The threaded_comments plugin writes the file on every build (THREADED_COMMENTS["JSON_PATH"]
under the output folder) and owns its format; this reads it only through the plugin's
`read_comments_json`, again whenever it changes, so a rebuilt site takes effect without a
restart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from threaded_comments import PostEntry, read_comments_json

log = logging.getLogger(__name__)


class TargetsUnavailableError(Exception):
    """There is no readable comments.json yet (the site has not been built)."""


class Targets:
    """The posts in comments.json, re-read whenever the file's size or mtime changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int] | None = None
        self._posts: dict[str, PostEntry] = {}
        self._by_url: dict[str, PostEntry] = {}
        self._lock = threading.Lock()

    def post(self, slug: str) -> PostEntry | None:
        """The post with this slug, or None."""
        return self._current()[0].get(slug)

    def post_at(self, url: str) -> PostEntry | None:
        """The post whose page is at this URL path, or None."""
        return self._current()[1].get(url)

    def _current(self) -> tuple[dict[str, PostEntry], dict[str, PostEntry]]:
        try:
            stat = self.path.stat()
        except OSError as error:
            raise TargetsUnavailableError(
                f"{self.path} is missing: build the site first"
            ) from error
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature != self._signature:
            with self._lock:
                if signature != self._signature:
                    self._load(signature)
        return self._posts, self._by_url

    def _load(self, signature: tuple[int, int]) -> None:
        try:
            posts = read_comments_json(self.path)
        except (OSError, ValueError) as error:
            # Caught mid-write or broken: keep what was known; a later request tries again.
            if not self._posts:
                raise TargetsUnavailableError(f"{self.path} cannot be read: {error}") from error
            log.warning(
                "intake: keeping the previous targets, %s cannot be read: %s", self.path, error
            )
            return
        self._posts = posts
        self._by_url = {post.url: post for post in posts.values()}
        self._signature = signature
        log.info("intake: %d posts read from %s", len(posts), self.path)
