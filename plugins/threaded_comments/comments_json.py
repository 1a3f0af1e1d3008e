"""output/comments.json: which posts take comments and which comment ids exist.

The intake checks a new comment's post and parent against it, and moderation reads the
likes already published, so it is written whole or not at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def post_index_entry(article: Any, url: str, likes: dict[str, int]) -> dict[str, Any]:
    """A post's entry in comments.json; `url` is the article's URL (costly to work out),
    `likes` each comment id's likes, in the order of the post's comment files."""
    modified = getattr(article, "modified", None) or article.date
    return {
        "url": f"/{url}",
        "title": article.title,
        "open": article.comments_open,
        "modified": modified.isoformat(),
        "comments": list(likes),
        "likes": likes,
    }


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp makes the file private; a web server must be able to read it.
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_comments_index(path: Path, document: dict[str, Any]) -> None:
    """Write the comments.json `document` to `path`."""
    write_atomically(path, json.dumps(document, ensure_ascii=False))
