"""The author's review, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import os
import sys

import pytest

from moderation import inbox
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import POST, add_pending, make_project, status_of
from tests.support.terminal import PROMPT, SHOWN, Terminal


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
