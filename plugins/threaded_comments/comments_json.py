"""`output/comments.json`: which posts take comments, which comment ids exist, their likes.

The one reader and writer of the file. The plugin makes it on every build and writes it
if it changed; the intake reads it to check what a comment or like points at, and
`invoke moderate` reads titles, URLs and published likes from it. It is written whole or
not at all.

    {"posts": {"<slug>": {"url": "/2016/03/texting-my-therapist/", "title": "...",
                          "open": true, "modified": "<ISO date>",
                          "comments": ["<id>", ...], "likes": {"<id>": 2, ...}}}}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_write, holds


@dataclass(frozen=True)
class PostEntry:
    """One post as comments.json describes it."""

    slug: str
    url: str
    title: str
    open: bool
    modified: str = ""
    # The post's comment ids, in the order of its files.
    comments: tuple[str, ...] = ()
    likes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "title": self.title,
            "open": self.open,
            "modified": self.modified,
            "comments": list(self.comments),
            "likes": self.likes,
        }


def write_comments_json(path: Path, posts: Iterable[PostEntry]) -> None:
    """Replace the file at `path` with these posts, unless it holds them already."""
    document = {"posts": {post.slug: post.to_json() for post in posts}}
    text = json.dumps(document, ensure_ascii=False)
    # An unchanged file is not written again (with an atomic write's two syncs) and keeps
    # its date, so a deploy does not send it again.
    if not holds(path, text.encode()):
        atomic_write({path: text})


def parse_comments_json(text: str) -> dict[str, PostEntry]:
    """The posts of a comments.json text, keyed by slug; ValueError if it is not one."""
    try:
        posts = json.loads(text)["posts"]
        return {
            slug: PostEntry(
                slug=slug,
                url=entry["url"],
                title=entry.get("title", slug),
                open=bool(entry.get("open", False)),
                modified=entry.get("modified", ""),
                comments=tuple(entry.get("comments", ())),
                likes={str(key): int(value) for key, value in entry.get("likes", {}).items()},
            )
            for slug, entry in posts.items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a comments.json document: {error!r}") from error


def read_comments_json(path: Path) -> dict[str, PostEntry]:
    """The posts in the file at `path`; OSError if it is missing, ValueError if broken."""
    return parse_comments_json(path.read_text(encoding="utf-8"))
