"""The author's console as a first-time user meets it, on a pseudo-terminal: the editor it
opens and says, Ctrl-C, the real reason on the spam list, and tables that read at 80
columns with names and post titles."""

from __future__ import annotations

import os
import re
import sys

import pytest

from moderation import inbox
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import add_pending, make_project, status_of
from tests.support.terminal import PROMPT, SHOWN, Terminal

TITLE = "Texting my therapist"


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture
def standin():
    with AkismetStandIn() as server:
        yield server


def console(project, standin, *options: str, columns: int = 160, **env: str) -> Terminal:
    environment = {**os.environ, **standin.environment(), "NO_COLOR": "1"}
    for name in ("VISUAL", "EDITOR"):
        environment.pop(name, None)
    environment.update(env, COLUMNS=str(columns))
    root = project.inbox.parent.parent
    argv = [sys.executable, "-m", "moderation.pipeline.run", "--root", str(root), *options]
    return Terminal(argv, environment)


def fake_editor(folder, name: str):
    """An editor program called `name` in `folder` that rewrites the file it is given."""
    folder.mkdir(exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\nprintf 'Softened in {name}.' > \"$1\"\n")
    program.chmod(0o755)
    return folder


@pytest.mark.parametrize(("installed", "opened"), [(("nano", "vi"), "nano"), (("vi",), "vi")])
def test_e_opens_nano_where_present_else_vi_and_says_which(
    project, standin, tmp_path, installed, opened
):
    connection = inbox.connect(project.inbox)
    held = add_pending(connection, "Mail me at someone.else@example.net about it")
    bin_dir = tmp_path / "bin"
    for name in installed:
        fake_editor(bin_dir, name)

    terminal = console(project, standin, PATH=str(bin_dir))
    terminal.expect(SHOWN)
    terminal.expect(PROMPT)
    terminal.type("e")
    terminal.expect(re.escape(f"Opening the comment in {opened} (set $EDITOR to choose another)"))
    terminal.expect(f"Softened in {opened}.")
    terminal.expect(PROMPT)
    terminal.type("a")
    terminal.expect("Review summary")
    assert terminal.close() == 0
    assert inbox.get_comment(connection, held)["body"] == f"Softened in {opened}."
    connection.close()


def test_editor_setting_is_still_obeyed(project, standin, tmp_path):
    connection = inbox.connect(project.inbox)
    add_pending(connection, "Mail me at someone.else@example.net about it")
    editor = fake_editor(tmp_path / "mine", "my-editor") / "my-editor"
    terminal = console(project, standin, EDITOR=str(editor))
    terminal.expect(PROMPT)
    terminal.type("e")
    terminal.expect(re.escape(f"Opening the comment in {editor}"))
    terminal.expect("Softened in my-editor.")
    terminal.expect(PROMPT)
    terminal.type("q")
    assert terminal.close() == 0
    connection.close()


def test_ctrl_c_says_what_was_saved_and_exits_130(project, standin):
    connection = inbox.connect(project.inbox)
    first = add_pending(connection, "Mail me at someone.else@example.net about it")
    second = add_pending(connection, "Or call 020 7946 0000 any evening")

    terminal = console(project, standin)
    shown = terminal.expect(SHOWN).group(1)
    terminal.expect(PROMPT)
    terminal.type("d")
    terminal.expect(SHOWN)
    terminal.expect(PROMPT)
    terminal.interrupt()
    line = terminal.expect(r"Stopped \(Ctrl-C\)[^\n]*\n").group(0)
    assert "your 1 decision and the automatic ones are saved" in line
    assert "nothing was published" in line
    assert terminal.close() == 130
    assert "Traceback" not in terminal.screen
    assert "Review summary" not in terminal.screen

    other = second if shown == first else first
    assert status_of(connection, shown) == "deleted"
    assert status_of(connection, other) == "held"
    assert not project.comments_dir.exists()
    connection.close()


def test_review_spam_gives_the_real_reason(project, standin):
    connection = inbox.connect(project.inbox)
    flagged = add_pending(connection, "cheap pills here", author="akismet-guaranteed-spam")
    trap = add_pending(connection, "hello there", honeypot=True)
    first = console(project, standin, "--no-input")
    first.expect("Published")
    assert first.close() == 0
    assert status_of(connection, flagged) == status_of(connection, trap) == "spam"

    terminal = console(project, standin, "--review-spam")
    reasons = {}
    for _ in range(2):
        comment_id = terminal.expect(SHOWN).group(1)
        reasons[comment_id] = terminal.expect(r"(Held|Marked)[^\n│]*").group(0).strip()
        terminal.expect(PROMPT)
        terminal.type("k")
    terminal.expect("Review summary")
    assert terminal.close() == 0
    assert reasons[flagged] == "Marked spam because: Akismet: spam"
    assert reasons[trap].startswith("Marked spam because: ")
    assert "honeypot" in reasons[trap]
    assert "the author's review" not in terminal.screen
    connection.close()


def lines_of(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if line.strip()]


def test_tables_name_people_and_posts_and_read_at_80_columns(project, standin):
    connection = inbox.connect(project.inbox)
    add_pending(connection, "Thank you for writing this down.", author="Marguerite")
    add_pending(
        connection,
        "Links https://a.example https://b.example https://c.example",
        author="Bartholomew Fairweather-Lyons",
    )

    dry = console(project, standin, "--dry-run", columns=80)
    dry.expect("Would publish")
    assert dry.close() == 0
    run = console(project, standin, "--no-input", columns=80)
    run.expect("Purged")
    assert run.close() == 0
    log = console(project, standin, "--log", columns=80)
    log.expect("published")
    assert log.close() == 0

    for screen in (dry.screen, run.screen):
        assert all(len(line) <= 80 for line in lines_of(screen)), screen
        assert "Marguerite" in screen
        assert "Bartholomew" in screen
        assert re.search(r"Texting my\s?th", screen)  # the title, perhaps cut short
        assert "from" in screen and "why" in screen
        # The "why" column is read, not cut: its words wrap whole.
        assert "not spam; no rule" in re.sub(r"\s+", " ", screen)
    assert "3 links (more than 2)" in re.sub(r"\s+", " ", run.screen)
    assert f"Marguerite on “{TITLE}”" in log.screen
    connection.close()
