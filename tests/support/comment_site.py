"""Small sites with comments, written into a tmp content folder for the plugin's tests."""

from __future__ import annotations

from pathlib import Path


def write_post(content: Path, slug: str, date: str, *extra: str) -> None:
    content.mkdir(parents=True, exist_ok=True)
    header = "\n".join([f"Title: Post {slug}", f"Date: {date}", f"Slug: {slug}", *extra])
    (content / f"{slug}.md").write_text(
        f"{header}\n\nA few quiet lines about a session, written for the test.\n",
        encoding="utf-8",
    )


def write_comment(content: Path, post: str, comment_id: str, body: str, **meta: str) -> Path:
    folder = content / "comments" / post
    folder.mkdir(parents=True, exist_ok=True)
    meta.setdefault("author", "Reader")
    meta.setdefault("date", "2016-03-15T10:00:00+00:00")
    lines = [f"{key}: {value}" for key, value in meta.items()]
    path = folder / f"{comment_id}.md"
    path.write_text("\n".join(lines) + "\n\n" + body + "\n", encoding="utf-8")
    return path


def small_site(content: Path) -> None:
    """Four posts: a long discussion, none, one comment, and comments closed."""
    write_post(content, "first-post", "2016-03-14 20:00")
    write_post(content, "quiet-post", "2016-04-01 20:00")
    write_post(content, "single-post", "2016-05-01 20:00")
    write_post(content, "closed-post", "2016-06-01 20:00", "Comments: closed")
    # File names out of date order: the thread must follow the dates.
    write_comment(
        content,
        "first-post",
        "b-late",
        "Coming back to this a week later. See [my notes](https://notes.example.org/x).",
        author="Hollis",
        date="2016-03-21T09:00:00+00:00",
        likes="1",
    )
    write_comment(
        content,
        "first-post",
        "a-early",
        "The *counting of hours* is so familiar.",
        author="Juniper",
        date="2016-03-15T07:00:00+00:00",
        website="https://juniper.example.net",
        likes="3",
    )
    write_comment(
        content,
        "first-post",
        "r1",
        "Thank you, Juniper.",
        author="Maren",
        author_role="author",
        date="2016-03-15T09:00:00+00:00",
        replyto="a-early",
    )
    # A chain six replies long below a-early/r1: deeper than the default cap of 5.
    parent = "r1"
    for depth in range(3, 9):
        write_comment(
            content,
            "first-post",
            f"d{depth}",
            f"Reply at depth {depth}.",
            author=f"Voice{depth}",
            date=f"2016-03-16T{depth:02d}:00:00+00:00",
            replyto=parent,
        )
        parent = f"d{depth}"
    # An earlier reply to a-early than r2, filed under a later name.
    write_comment(
        content,
        "first-post",
        "r2",
        "Same here.",
        author="Dev",
        date="2016-03-17T09:00:00+00:00",
        replyto="a-early",
    )
    write_comment(content, "single-post", "s1", "Just one.", date="2016-05-02T10:00:00+00:00")
    write_comment(content, "closed-post", "c1", "Before closing.", date="2016-06-02T10:00:00+00:00")
