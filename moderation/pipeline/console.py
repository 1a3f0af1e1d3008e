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
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from rich import box
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
    # Ctrl-C: every decision before it is committed; the run stops there.
    interrupted: bool = False

    def saved(self) -> int:
        """How many decisions are in the inbox (a skip decides nothing)."""
        return sum(action != "skip" for _, action in self.decisions)


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
    lines.append(why_line(comment) + "\n")
    lines.append(f"Akismet: {comment['akismet_verdict'] or 'not asked'}\n\n")
    lines.append(comment["body"])
    console.print(Panel(lines, title=f"Comment {comment['id']} ({position})", expand=False))


def why_line(comment: sqlite3.Row) -> str:
    """Why a comment is in the review, as stored with its last decision: "Held because: ..."
    or, on the spam list (--review-spam), why it was called spam."""
    reasons = "; ".join(json.loads(comment["reasons"] or "[]")) or "nothing in particular"
    if comment["status"] != Status.SPAM:
        return f"Held because: {reasons}"
    if comment["decided_by"] == "author":
        return "Marked spam by you, in an earlier review"
    # The stored reasons name their source: "Akismet: spam", "the honeypot field ...".
    return f"Marked spam because: {reasons}"


def chosen_editor() -> str:
    """$VISUAL, then $EDITOR; else nano where it is installed (it shows its own keys, which
    vi does not), else vi."""
    return (
        os.environ.get("VISUAL")
        or os.environ.get("EDITOR")
        or ("nano" if shutil.which("nano") else "vi")
    )


def edit_text(text: str, editor: str) -> str:
    """Let the author change `text` in `editor`; returns what she saved."""
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
    editor = chosen_editor()
    console.print(
        f"Opening {editor} for your reply (set $EDITOR to choose another); "
        "save and close it to come back here.",
        markup=False,
    )
    try:
        body = edit_text("", editor).strip()
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
    """Go through `comments` with the author; each decision is committed as it is made,
    so Ctrl-C (result.interrupted) loses none of them.

    "reply" opens her editor for a reply published as hers (`author_name`, with the Author
    badge) under the comment, which it approves."""
    result = ReviewResult()
    try:
        for number, comment in enumerate(comments, start=1):
            while True:
                show(
                    console,
                    connection,
                    comment,
                    posts,
                    comments_dir,
                    f"{number} of {len(comments)}",
                )
                action = ask(console)
                if action == "reply":
                    if write_reply(console, connection, comment, author_name):
                        action = "approve"
                        break
                    continue
                if action != "edit":
                    break
                editor = chosen_editor()
                console.print(
                    f"Opening the comment in {editor} (set $EDITOR to choose another); "
                    "save and close it to come back here.",
                    markup=False,
                )
                try:
                    body = edit_text(comment["body"], editor).strip()
                except (OSError, subprocess.CalledProcessError) as error:
                    console.print(
                        f"The editor failed ({error}); the text is unchanged.", markup=False
                    )
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
                console.print(
                    f"Left as it is: {error}.", markup=False, highlight=False, soft_wrap=True
                )
                result.decisions.append((comment, "left as it is (it changed meanwhile)"))
                continue
            # Counted once committed: Ctrl-C inside the transaction saves nothing.
            result.decisions.append((comment, action))
            verdict = comment["akismet_verdict"]
            if status is Status.APPROVED and verdict in ("spam", "discard"):
                console.print(correct(comment, False), markup=False)
            elif status is Status.SPAM and verdict == "ham":
                console.print(correct(comment, True), markup=False)
    except KeyboardInterrupt:
        # Ctrl-C: what she decided so far is committed; the caller says so and stops.
        result.interrupted = True
    return result


def summary_table(result: ReviewResult, posts: Mapping[str, PostEntry]) -> Table:
    """One row per comment the author looked at, with what she decided."""
    table = decision_table("Review summary")
    for comment, action in result.decisions:
        table.add_row(*comment_row(comment, posts, action, "your review"))
    return table


def counted(number: int, noun: str) -> str:
    """ "1 comment", "2 comments": the summary lines read as sentences."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def post_title(posts: Mapping[str, PostEntry], slug: str | None) -> str:
    """A post's title as the author knows it; its slug when the site does not list it."""
    post = posts.get(slug or "")
    return post.title if post is not None else slug or "-"


def decision_table(title: str, decision: str = "decision") -> Table:
    """A table of comments that reads at 80 columns: no side borders; when space is short
    the name wraps, the post's title is cut (with an ellipsis) and "why", the column she
    reads, keeps room to wrap its words.
    The comment's id closes its "why", to find it in the inbox or the log."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column("from", overflow="fold")
    table.add_column("post", overflow="ellipsis", no_wrap=True)
    table.add_column(decision, no_wrap=True)
    table.add_column("why", min_width=24, overflow="fold")
    return table


def comment_row(
    comment: sqlite3.Row, posts: Mapping[str, PostEntry], decision: str, why: str
) -> list[Text]:
    """One row of a decision_table."""
    title = post_title(posts, comment["post_slug"])
    return [Text(comment["author"]), Text(title), Text(decision), Text(f"{why}\n[{comment['id']}]")]


def verdict_table(
    verdicts: Mapping[str, Verdict],
    comments: Mapping[str, sqlite3.Row],
    posts: Mapping[str, PostEntry],
    title: str,
) -> Table:
    """Each comment's automatic decision, by whom and why; `comments` are the inbox rows."""
    table = decision_table(title)
    for comment_id, verdict in verdicts.items():
        status = str(verdict.status) if verdict.status else "stays pending"
        why = "; ".join(verdict.reasons) or "nothing in particular"
        table.add_row(*comment_row(comments[comment_id], posts, status, why))
    return table


def waiting_table(comments: list[sqlite3.Row], posts: Mapping[str, PostEntry]) -> Table:
    """The comments waiting for review, when there is no terminal to review them on."""
    table = decision_table(
        "Waiting for your review (run `invoke moderate` on a terminal)", decision="status"
    )
    for comment in comments:
        care = "NEEDS CARE " if comment["needs_care"] else ""
        table.add_row(*comment_row(comment, posts, care + comment["status"], why_line(comment)))
    return table


def log_lines(connection: sqlite3.Connection, posts: Mapping[str, PostEntry]) -> list[str]:
    """The decision log, one plain line each (easy to grep): when, who wrote the comment,
    on which post, what was decided, by whom (rule, akismet, author, reader, publish) and
    why, then the comment's address (post slug/id) for finding it in the inbox."""
    lines = []
    for entry in inbox.decision_log(connection):
        why = f": {entry['reason']}" if entry["reason"] else ""
        lines.append(
            f"{entry['at']}  {entry['author'] or '?'} on “{post_title(posts, entry['post_slug'])}”"
            f"  {entry['action']} by {entry['actor']}{why}"
            f"  [{entry['post_slug'] or '-'}/{entry['comment_id']}]"
        )
    return lines
