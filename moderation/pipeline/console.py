"""What `invoke moderate` shows the author on her terminal, and the review she does there.

The review: one held comment at a time, needs-care first. Each comment is shown with its
post, the comment it answers, the reasons it was held and Akismet's verdict. One key (then
Enter) decides: approve, spam, delete, edit in $EDITOR, skip, reply as the author (which
approves it too), quit. A summary table closes
the review. Beside it: the table of automatic decisions, the list of comments waiting for
review when there is no terminal, and the decision log's plain lines.

Every reader-supplied value goes into a rich `Text` (or is printed with markup off), so a
name like "[/b]" is shown, not read as markup.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from threaded_comments import CommentFileError, PostEntry, comment_path, read_comment_file

from moderation import inbox
from moderation.author_replies import add_author_reply
from moderation.inbox import Status
from moderation.pipeline.policy import Verdict

KEYS = {
    "a": "approve",
    "s": "spam",
    "d": "delete",
    "e": "edit",
    "k": "skip",
    "r": "reply",
    "q": "quit",
}
DECISIONS = {"approve": Status.APPROVED, "spam": Status.SPAM, "delete": Status.DELETED}

# Called when the author overrules Akismet: (comment, is_spam) -> a line to show.
Correction = Callable[[sqlite3.Row, bool], str]


@dataclass
class ReviewResult:
    """What the author decided, comment by comment, in the order she decided."""

    decisions: list[tuple[sqlite3.Row, str]] = field(default_factory=list)
    quit_early: bool = False


def _parent_text(
    connection: sqlite3.Connection, comments_dir: Path, comment: sqlite3.Row
) -> str | None:
    parent_id = comment["parent_id"]
    if not parent_id:
        return None
    parent = inbox.get_comment(connection, parent_id)
    if parent is not None:
        return f"{parent['author']}: {parent['body']}"
    path = comment_path(comments_dir, comment["post_slug"], parent_id)
    try:
        # Only its author and words are shown: the zone for a date without one is moot.
        published = read_comment_file(path, UTC)
    except (OSError, CommentFileError):
        return f"(comment {parent_id}, not found)"
    return f"{published.author}: {published.body}"


def show(
    console: Console,
    connection: sqlite3.Connection,
    comment: sqlite3.Row,
    posts: Mapping[str, PostEntry],
    comments_dir: Path,
    position: str,
) -> None:
    """Print one comment with everything the author needs to decide on it."""
    post = posts.get(comment["post_slug"])
    title = post.title if post is not None else comment["post_slug"]
    lines = Text()
    if comment["needs_care"]:
        lines.append("NEEDS CARE: read this one gently; it is never published by itself.\n", "bold")
    lines.append(f"Post: {title}\n")
    parent = _parent_text(connection, comments_dir, comment)
    if parent:
        lines.append(f"In reply to {parent[:300]}\n")
    lines.append(f"From: {comment['author']}")
    if comment["website"]:
        lines.append(f"  <{comment['website']}>")
    lines.append(f"  on {comment['created_at']}\n")
    if comment["needs_care"] and comment["email"]:
        # Only here: the author may want to write to her privately, outside the site.
        lines.append(f"Her email, to reach out privately if you choose: {comment['email']}\n")
    reasons = json.loads(comment["reasons"] or "[]")
    lines.append("Held because: " + ("; ".join(reasons) or "nothing in particular") + "\n")
    lines.append(f"Akismet: {comment['akismet_verdict'] or 'not asked'}\n\n")
    lines.append(comment["body"])
    console.print(Panel(lines, title=f"Comment {comment['id']} ({position})", expand=False))


def edit_text(text: str) -> str:
    """Let the author change `text` in $VISUAL or $EDITOR; returns what she saved."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as handle:
        handle.write(text)
        name = handle.name
    try:
        subprocess.run([*shlex.split(editor), name], check=True)
        return Path(name).read_text(encoding="utf-8")
    finally:
        Path(name).unlink(missing_ok=True)


def write_reply(
    console: Console, connection: sqlite3.Connection, comment: sqlite3.Row, author_name: str
) -> bool:
    """The author's reply to `comment`, from her editor; False when she wrote nothing."""
    try:
        body = edit_text("").strip()
    except (OSError, subprocess.CalledProcessError) as error:
        console.print(f"The editor failed ({error}); no reply.", markup=False)
        return False
    if not body:
        console.print("Nothing written: no reply.")
        return False
    with inbox.transaction(connection):
        reply_id = add_author_reply(connection, comment, author_name, body)
    console.print(f"Your reply {reply_id} is published with this comment.", markup=False)
    return True


def ask(console: Console) -> str:
    """Ask for a key until the answer is one of KEYS; returns the action's name."""
    prompt = "  ".join(f"[bold]{key}[/bold] {action}" for key, action in KEYS.items())
    while True:
        try:
            answer = console.input(f"{prompt} > ").strip().lower()[:1]
        except EOFError:  # Ctrl-D: the same as quit; decisions made so far are kept
            return "quit"
        if answer in KEYS:
            return KEYS[answer]
        console.print("Please type one of: " + ", ".join(KEYS))


def review(
    console: Console,
    connection: sqlite3.Connection,
    comments: list[sqlite3.Row],
    posts: Mapping[str, PostEntry],
    comments_dir: Path,
    correct: Correction,
    author_name: str,
) -> ReviewResult:
    """Go through `comments` with the author; each decision is committed as it is made.

    "reply" opens her editor for a reply published as hers (`author_name`, with the Author
    badge) under the comment, which it approves."""
    result = ReviewResult()
    for number, comment in enumerate(comments, start=1):
        while True:
            show(console, connection, comment, posts, comments_dir, f"{number} of {len(comments)}")
            action = ask(console)
            if action == "reply":
                if write_reply(console, connection, comment, author_name):
                    action = "approve"
                    break
                continue
            if action != "edit":
                break
            try:
                body = edit_text(comment["body"]).strip()
            except (OSError, subprocess.CalledProcessError) as error:
                console.print(f"The editor failed ({error}); the text is unchanged.", markup=False)
                continue
            if body and body != comment["body"]:
                with inbox.transaction(connection):
                    inbox.set_body(connection, comment["id"], body, "author")
                comment = inbox.get_comment(connection, comment["id"])
        if action == "quit":
            result.quit_early = True
            break
        if action == "skip":
            result.decisions.append((comment, action))
            continue
        status = DECISIONS[action]
        try:
            with inbox.transaction(connection):
                inbox.decide(
                    connection,
                    comment["id"],
                    status,
                    "author",
                    ["the author's review"],
                    expected=Status(comment["status"]),
                )
        except inbox.StaleDecisionError as error:
            console.print(f"Left as it is: {error}.", markup=False, highlight=False, soft_wrap=True)
            result.decisions.append((comment, "left as it is (it changed meanwhile)"))
            continue
        result.decisions.append((comment, action))
        verdict = comment["akismet_verdict"]
        if status is Status.APPROVED and verdict in ("spam", "discard"):
            console.print(correct(comment, False), markup=False)
        elif status is Status.SPAM and verdict == "ham":
            console.print(correct(comment, True), markup=False)
    return result


def summary_table(result: ReviewResult) -> Table:
    """One row per comment the author looked at, with what she decided."""
    table = Table(title="Review summary")
    for column in ("comment", "post", "author", "decision"):
        table.add_column(column, no_wrap=column == "comment")
    for comment, action in result.decisions:
        table.add_row(*map(Text, (comment["id"], comment["post_slug"], comment["author"], action)))
    return table


def counted(number: int, noun: str) -> str:
    """ "1 comment", "2 comments": the summary lines read as sentences."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def verdict_table(verdicts: Mapping[str, Verdict], title: str) -> Table:
    """Each comment's automatic decision and why."""
    table = Table(title=title)
    for column in ("comment", "decision", "by", "why"):
        table.add_column(column, no_wrap=column == "comment")
    for comment_id, verdict in verdicts.items():
        status = str(verdict.status) if verdict.status else "stays pending"
        table.add_row(*map(Text, (comment_id, status, verdict.actor, "; ".join(verdict.reasons))))
    return table


def waiting_table(comments: list[sqlite3.Row]) -> Table:
    """The comments waiting for review, when there is no terminal to review them on."""
    table = Table(title="Waiting for your review (run `invoke moderate` on a terminal)")
    for column in ("comment", "status", "post", "author", "why"):
        table.add_column(column, no_wrap=column == "comment")
    for comment in comments:
        reasons = "; ".join(json.loads(comment["reasons"] or "[]"))
        care = "NEEDS CARE " if comment["needs_care"] else ""
        table.add_row(
            *map(
                Text,
                (
                    comment["id"],
                    care + comment["status"],
                    comment["post_slug"],
                    comment["author"],
                    reasons,
                ),
            )
        )
    return table


def log_lines(connection: sqlite3.Connection) -> list[str]:
    """The decision log, one plain line each (easy to grep): when, comment, post, what,
    by whom (rule, akismet, author, reader, publish) and why."""
    lines = []
    for entry in inbox.decision_log(connection):
        why = f": {entry['reason']}" if entry["reason"] else ""
        lines.append(
            f"{entry['at']}  {entry['comment_id']}  {entry['post_slug'] or '-'}  "
            f"{entry['action']} by {entry['actor']}{why}"
        )
    return lines
