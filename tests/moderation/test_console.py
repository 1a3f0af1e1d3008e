"""The author's review, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from rich.console import Console

from moderation import inbox
from moderation.inbox import Status
from moderation.pipeline.console import show
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import POST, PROJECT_ROOT, add_pending, make_project, status_of
from tests.support.terminal import PROMPT, SHOWN, Terminal

TITLE = "Texting my therapist"


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


# --- issue 15: the console as a first-time user meets it: the editor it opens and says,
# Ctrl-C, the real reason on the spam list, tables with names and titles at 80 columns ---


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


def test_ctrl_c_in_invoke_moderate_exits_130_without_a_rebuild(project, standin):
    root = project.inbox.parent.parent
    shutil.copy(PROJECT_ROOT / "tasks.py", root / "tasks.py")
    connection = inbox.connect(project.inbox)
    add_pending(connection, "Mail me at someone.else@example.net about it")
    environment = {**os.environ, **standin.environment(), "NO_COLOR": "1", "COLUMNS": "160"}
    invoke = Path(sys.executable).parent / "invoke"
    terminal = Terminal([str(invoke), "moderate"], environment, cwd=root)
    terminal.expect(PROMPT)
    terminal.interrupt()
    terminal.expect(r"Stopped \(Ctrl-C\): your 0 decisions and the automatic ones are saved")
    assert terminal.close() == 130
    assert "Traceback" not in terminal.screen
    assert not (root / "output" / "index.html").exists()  # no rebuild after Ctrl-C
    connection.close()
