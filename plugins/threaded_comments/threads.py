"""Turning a post's comments into a thread: replies under their parents, depth capped."""

from __future__ import annotations

from collections import defaultdict

from .reader import Comment, CommentFileError


def check_replies(comments: list[Comment]) -> None:
    """Raise CommentFileError for a reply whose parent is not a comment of the same post."""
    ids = {comment.id for comment in comments}
    for comment in comments:
        if comment.replyto is not None and comment.replyto not in ids:
            raise CommentFileError(
                comment.source_path,
                f"replyto {comment.replyto!r} names no comment of post {comment.post!r}",
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
        children[comment.replyto].append(comment)
    for siblings in children.values():
        siblings.sort(key=lambda comment: (comment.date, comment.id), reverse=newest_first)

    placed = 0

    def place(comment: Comment, depth: int, level: list[Comment], parent: Comment | None) -> None:
        nonlocal placed
        placed += 1
        comment.depth = depth
        comment.replies = []
        capped = parent is not None and parent.depth == depth
        comment.in_reply_to = parent.author if capped else None
        level.append(comment)
        for child in children.get(comment.id, ()):
            if depth < max_depth:
                place(child, depth + 1, comment.replies, comment)
            else:
                place(child, depth, level, comment)

    top_level: list[Comment] = []
    for comment in children.get(None, ()):
        place(comment, 1, top_level, None)
    if placed != len(comments):
        # Only a loop of replies (a answers b answers a) is unreachable from the top.
        reachable = {c.id for c in flatten(top_level)}
        looped = sorted(c.source_path for c in comments if c.id not in reachable)
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
