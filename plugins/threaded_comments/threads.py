"""A post's comments as templates see them: each a `Comment`, replies under their parents.

A `Comment` is its `CommentFile` (every field of the file reads as `comment.author`,
`comment.likes`, ...) plus what the build adds: the body as safe HTML and the comment's
place in the thread. A new field in the comment file therefore needs no change here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .comment_file import CommentFile, CommentFileError


def likes_text(likes: int) -> str:
    """WordPress's wording: nothing at 0, "Liked by 1 person", "Liked by N people"."""
    if likes <= 0:
        return ""
    return "Liked by 1 person" if likes == 1 else f"Liked by {likes} people"


@dataclass(slots=True, eq=False)
class Comment:
    """One published comment, its rendered body, and (once threaded) its place."""

    file: CommentFile
    # Where the file is, for error messages.
    source_path: str
    # The body as safe HTML (rendering.render_comment_markdown).
    content: str
    # The date in the site's TIMEZONE, for <time datetime> and as DATE_FORMAT shows it:
    # formatted here, since a method call costs a template several times what it costs Python.
    date_iso: str = ""
    date_text: str = ""
    depth: int = 1
    # Its place in reading order across the whole thread, from 1 (shown as "#3").
    number: int = 0
    # The parent's author, set when the reply is shown at the parent's depth (MAX_DEPTH).
    in_reply_to: str | None = None
    replies: list[Comment] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        # Called only for names the Comment itself lacks: the file's fields. Special names
        # (copy, pickle and Jinja probe for some) are never the file's.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.file, name)

    @property
    def likes_text(self) -> str:
        return likes_text(self.file.likes)


def check_replies(comments: list[Comment]) -> None:
    """Raise CommentFileError for a reply whose parent is not a comment of the same post."""
    ids = {comment.file.id for comment in comments}
    for comment in comments:
        replyto = comment.file.replyto
        if replyto is not None and replyto not in ids:
            raise CommentFileError(
                comment.source_path, f"replyto {replyto!r} names no comment of this post"
            )


def build_thread(comments: list[Comment], max_depth: int, newest_first: bool) -> list[Comment]:
    """The top-level comments, each with its `.replies`, ordered by date within each level.

    A reply that would sit deeper than `max_depth` is placed at `max_depth`, right after
    the comment it descends from, with `.in_reply_to` set to its parent's author: as
    WordPress does, nothing is hidden and the reader can still tell whom it answers.
    """
    check_replies(comments)
    children: dict[str | None, list[Comment]] = defaultdict(list)
    for comment in comments:
        children[comment.file.replyto].append(comment)
    for siblings in children.values():
        siblings.sort(key=lambda c: (c.file.date, c.file.id), reverse=newest_first)

    top_level: list[Comment] = []
    # What is left to place, in reading order from the end: (comment, its depth, the list
    # it joins, its parent). A stack, not a recursive function: a long chain of replies
    # cannot reach Python's recursion limit, and no closure ties the comments into a cycle
    # that only the garbage collector could free.
    pending = [(comment, 1, top_level, None) for comment in reversed(children.get(None, []))]
    placed = 0
    while pending:
        comment, depth, level, parent = pending.pop()
        placed += 1
        comment.number = placed
        comment.depth = depth
        comment.replies = []
        capped = parent is not None and parent.depth == depth
        comment.in_reply_to = parent.file.author if capped else None
        level.append(comment)
        replies_at = (depth + 1, comment.replies) if depth < max_depth else (depth, level)
        for child in reversed(children.get(comment.file.id, [])):
            pending.append((child, *replies_at, comment))
    if placed != len(comments):
        # Only a loop of replies (a answers b answers a) is unreachable from the top.
        reachable = {c.file.id for c in flatten(top_level)}
        looped = sorted(c.source_path for c in comments if c.file.id not in reachable)
        raise CommentFileError(looped[0], "its replyto chain loops and never reaches the post")
    return top_level


def flatten(top_level: list[Comment]) -> list[Comment]:
    """Every comment of a thread, in reading order."""
    result: list[Comment] = []
    stack = list(reversed(top_level))
    while stack:
        comment = stack.pop()
        result.append(comment)
        stack.extend(reversed(comment.replies))
    return result


class ThreadOnDemand(Sequence[Comment]):
    """A post's top-level comments, made the first time a template looks at them.

    One of the plugin's two pieces of lazy machinery (with ThreadHtml), and a newcomer can
    skip it: it behaves as the list of top-level `Comment`s that `make` returns. A post's
    thread HTML, feed, ids and likes are made once (or come from the cache), so nothing
    needs its Comment objects unless a template walks `article.comments`. Making 20,000 of
    them on a rebuild anyway was a fifth of what comments cost an unchanged rebuild, and
    keeping them through a cold build until the pages are written cost 30 MB and the
    garbage collector's time.
    """

    def __init__(self, make: Callable[[], list[Comment]]) -> None:
        self._make: Callable[[], list[Comment]] | None = make
        self._comments: list[Comment] = []

    def _made(self) -> list[Comment]:
        if self._make is not None:
            self._comments, self._make = self._make(), None
        return self._comments

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]

    def __len__(self) -> int:
        return len(self._made())

    def __iter__(self) -> Iterator[Comment]:
        return iter(self._made())

    def __repr__(self) -> str:
        return f"ThreadOnDemand({self._made()!r})"


class ThreadHtml:
    """`comments_html`: the thread's HTML, which a template prints with
    `{{ article.comments_html }}`; `str()` of it gives the text, and it is false when the
    post has no comments.

    The plugin's other piece of lazy machinery, and a newcomer can skip it too: it prints
    as the text `read` returns. A thread from the cache is read from the cache's texts file
    each time it is printed (once, on the post's own page), not held: a big site's threads
    come to some 60 MB, and holding them all through a rebuild cost more CPU time, in the
    kernel's page faults, than reading each one when its page is written.
    """

    __slots__ = ("_has_comments", "_read")

    def __init__(self, read: Callable[[], str], has_comments: bool) -> None:
        self._read = read
        self._has_comments = has_comments

    def __str__(self) -> str:
        return self._read()

    # What Jinja and markupsafe print for an object marked safe: the HTML as it is.
    __html__ = __str__

    def __bool__(self) -> bool:
        return self._has_comments

    def __repr__(self) -> str:
        return f"ThreadHtml({self._read()!r})"
