"""What a comment or like may point at: the posts and comment ids in output/comments.json.

The file is written by the threaded_comments plugin on every build; the intake re-reads it
when it changes, so a rebuilt site takes effect without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class TargetsUnavailableError(Exception):
    """There is no readable comments.json yet (the site has not been built)."""


@dataclass(frozen=True)
class Post:
    """One post as comments.json describes it."""

    slug: str
    url: str
    title: str
    open: bool
    comments: frozenset[str] = frozenset()
    likes: dict[str, int] = field(default_factory=dict)


class Targets:
    """The posts in comments.json, re-read whenever the file's size or mtime changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int] | None = None
        self._posts: dict[str, Post] = {}
        self._by_url: dict[str, Post] = {}
        self._lock = threading.Lock()

    def post(self, slug: str) -> Post | None:
        """The post with this slug, or None."""
        return self._current()[0].get(slug)

    def post_at(self, url: str) -> Post | None:
        """The post whose page is at this URL path, or None."""
        return self._current()[1].get(url)

    def _current(self) -> tuple[dict[str, Post], dict[str, Post]]:
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
            posts = parse_targets(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, AttributeError) as error:
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


def parse_targets(data: dict) -> dict[str, Post]:
    """The posts of a comments.json document, keyed by slug."""
    return {
        slug: Post(
            slug=slug,
            url=entry["url"],
            title=entry.get("title", slug),
            open=bool(entry.get("open", False)),
            comments=frozenset(entry.get("comments", ())),
            likes={str(key): int(value) for key, value in entry.get("likes", {}).items()},
        )
        for slug, entry in data["posts"].items()
    }
