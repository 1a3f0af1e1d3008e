"""The author's review, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys

import pytest
from rich.console import Console

from moderation import inbox
from moderation.inbox import Status
from moderation.pipeline.console import show
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import POST, add_pending, make_project, status_of

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SHOWN = re.compile(r"Comment (\S+) \((\d+) of (\d+)\)")
PROMPT = "q quit >"


class Terminal:
    """A child process on a pseudo-terminal: read what it shows, type answers."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.screen = ""
        self.seen = 0

    def expect(self, pattern: str | re.Pattern, timeout: float = 30) -> re.Match:
        """Wait for `pattern` in what is shown after the last match."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        while True:
            found = regex.search(self.screen, self.seen)
            if found:
                self.seen = found.end()
                return found
            ready, _, _ = select.select([self.master], [], [], timeout)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child has gone: the terminal closes
                    chunk = b""
            if not chunk:
                raise AssertionError(f"never saw {regex.pattern!r} in:\n{self.screen}")
            self.screen += ANSI.sub("", chunk.decode("utf-8", "replace")).replace("\r", "")

    def type(self, text: str) -> None:
        os.write(self.master, f"{text}\n".encode())

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture
def standin():
    with AkismetStandIn() as server:
        yield server


def review_terminal(project, standin, tmp_path, *options: str) -> Terminal:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'Edited by the author: kinder words.' > \"$1\"\n")
    editor.chmod(0o755)
    env = {**os.environ, **standin.environment(), "EDITOR": str(editor), "NO_COLOR": "1"}
    env.pop("VISUAL", None)
    env["COLUMNS"] = "160"
    root = project.inbox.parent.parent
    argv = [sys.executable, "-m", "moderation.pipeline.run", "--root", str(root), *options]
    return Terminal(argv, env)


def test_review_one_at_a_time_needs_care_first_with_corrections(project, standin, tmp_path):
    connection = inbox.connect(project.inbox)
    links = " ".join(f"https://site{n}.example" for n in range(3))
    parent = add_pending(connection, "I wrote to mine too, the first week.", author="Wren")
    with inbox.transaction(connection):
        inbox.decide(connection, parent, inbox.Status.APPROVED, "author", ["earlier review"])
    missed = add_pending(connection, f"Missed spam {links}", author="Sly")
    edited = add_pending(connection, f"Nice list {links}", author="Ash", parent_id=parent)
    false_alarm = add_pending(connection, "a real reader", author="akismet-guaranteed-spam")
    care = add_pending(connection, "Please help, I keep thinking about suicide.")
    keys = {missed: "s", edited: "e", false_alarm: "a", care: "k"}

    terminal = review_terminal(project, standin, tmp_path, "--review-spam")
    shown = []
    for _ in keys:
        comment_id = terminal.expect(SHOWN).group(1)
        shown.append(comment_id)
        if comment_id == edited:
            terminal.expect("In reply to Wren: I wrote to mine too")
        terminal.expect("Akismet: ")
        terminal.expect(PROMPT)
        terminal.type(keys[comment_id])
        if comment_id == edited:
            terminal.expect("kinder words")  # shown again, edited, for the decision
            terminal.expect(PROMPT)
            terminal.type("a")
    assert shown[0] == care and sorted(shown) == sorted(keys)
    assert "NEEDS CARE" in terminal.screen
    terminal.expect("Review summary")
    assert terminal.close() == 0

    assert status_of(connection, care) == "held"
    assert status_of(connection, missed) == "spam"
    assert status_of(connection, false_alarm) == "approved"
    assert status_of(connection, edited) == "approved"
    edited_file = project.comments_dir / POST / f"{edited}.md"
    assert edited_file.read_text().endswith("\n\nEdited by the author: kinder words.\n")
    # Corrections: Akismet called `false_alarm` spam and `missed` ham; the author overruled.
    assert [r.form["comment_author"] for r in standin.calls("submit-ham")] == [
        "akismet-guaranteed-spam"
    ]
    assert [r.form["comment_author"] for r in standin.calls("submit-spam")] == ["Sly"]
    connection.close()


def test_quit_leaves_the_rest_held_and_typos_are_asked_again(project, standin, tmp_path):
    connection = inbox.connect(project.inbox)
    first = add_pending(
        connection, "Two links https://a.example https://b.example https://c.example"
    )
    second = add_pending(connection, "Email me at someone.else@example.net")

    terminal = review_terminal(project, standin, tmp_path)
    shown = terminal.expect(SHOWN).group(1)
    terminal.expect(PROMPT)
    terminal.type("x")
    terminal.expect("Please type one of")
    terminal.type("d")
    terminal.expect(SHOWN)
    terminal.expect(PROMPT)
    terminal.type("q")
    terminal.expect("Review summary")
    assert terminal.close() == 0

    other = second if shown == first else first
    assert status_of(connection, shown) == "deleted"
    assert status_of(connection, other) == "held"
    connection.close()


def test_review_shows_the_email_of_a_needs_care_comment_only(project):
    # Issue 14: the author may want to write privately to a reader who needs care.
    connection = inbox.connect(project.inbox)
    care = add_pending(connection, "Some nights I think about suicide.", email="fern@example.org")
    plain = add_pending(connection, "Thank you for this post.", email="moss@example.org")
    with inbox.transaction(connection):
        for comment_id, care_needed in ((care, True), (plain, False)):
            inbox.decide(connection, comment_id, Status.HELD, "rule", [], needs_care=care_needed)
    shown = {}
    for comment_id in (care, plain):
        buffer = io.StringIO()
        show(
            Console(file=buffer, width=200, color_system=None),
            connection,
            inbox.get_comment(connection, comment_id),
            {},
            project.comments_dir,
            "1 of 1",
        )
        shown[comment_id] = buffer.getvalue()
    assert "fern@example.org" in shown[care]
    assert "moss@example.org" not in shown[plain]


def test_the_author_replies_from_the_review_and_both_are_published(project, standin, tmp_path):
    # Issue 14: the reply goes up under the comment, with the Author badge, in the same run.
    connection = inbox.connect(project.inbox)
    # Contact details in it: held for the author by a rule, whatever the first-comment setting.
    comment = add_pending(
        connection, "Did you ever text her after midnight? I'm on 020 7946 0011.", author="Wren"
    )
    terminal = review_terminal(project, standin, tmp_path)
    assert terminal.expect(SHOWN).group(1) == comment
    terminal.expect(PROMPT)
    terminal.type("r")
    terminal.expect("is published with this comment")
    terminal.expect("Review summary")
    assert terminal.close() == 0

    assert status_of(connection, comment) == "approved"
    files = {path.stem: path.read_text() for path in (project.comments_dir / POST).glob("*.md")}
    [reply] = [text for name, text in files.items() if name != comment]
    assert reply.startswith("author: Maren\n")
    assert f"replyto: {comment}\n" in reply and "author_role: author\n" in reply
    assert reply.endswith("\n\nEdited by the author: kinder words.\n")
    connection.close()
