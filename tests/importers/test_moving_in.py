"""A blogger moving in from WordPress: the sample blog out, her export in, a post of the
same slug named, and the comments WordPress still held waiting in her inbox for review."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moderation import inbox
from moderation.importers.wordpress import import_wordpress
from moderation.samples import SAMPLES_NAME
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import FAST, make_project, run_pipeline
from tests.support.site import PROJECT_ROOT, run_pelican

EXPORT = PROJECT_ROOT / "tests" / "fixtures" / "wordpress" / "export.xml"
TEXTING = "texting-my-therapist"
INVOKE = [sys.executable, "-m", "invoke"]


def test_a_post_of_the_same_slug_is_named_not_called_an_edit(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    content = tmp_path / "content"
    content.mkdir()
    mine = content / f"{TEXTING}.md"
    mine.write_text("Title: My own texting notes\nDate: 2016-03-14\n\nWritten here first.\n")

    summary = import_wordpress(EXPORT, project, content_dir=content)
    text = "\n".join(summary.lines())
    assert mine.read_text().endswith("Written here first.\n")
    assert (
        f"kept {TEXTING}.md: a post with the slug “{TEXTING}” already exists "
        "(“My own texting notes”), not from an earlier import" in text
    )
    assert "you changed it since the last import" not in text


def test_held_wordpress_comments_wait_in_the_inbox_and_go_through_moderation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "project")
    content = tmp_path / "content"

    summary = import_wordpress(EXPORT, project, content_dir=content, inbox_path=project.inbox)
    text = "\n".join(summary.lines())
    assert "pending comments: 1 put in your inbox as pending" in text
    assert "pending comments (never approved)" not in text
    connection = inbox.connect(project.inbox)
    (held,) = inbox.comments_with_status(connection, inbox.Status.PENDING)
    assert held["post_slug"] == TEXTING
    assert held["author"] == "Waiting Reader"
    assert held["body"].startswith("PENDING-MARKER I never got around")
    assert not any("PENDING-MARKER" in p.read_text() for p in content.rglob("*.md"))

    again = import_wordpress(EXPORT, project, content_dir=content, inbox_path=project.inbox)
    assert "0 put in your inbox as pending (1 were there already)" in "\n".join(again.lines())
    assert len(inbox.comments_with_status(connection, inbox.Status.PENDING)) == 1

    # `invoke moderate` then checks it like a new comment: Akismet is asked about it.
    with AkismetStandIn() as standin:
        for name, value in standin.environment().items():
            monkeypatch.setenv(name, value)
        code, output = run_pipeline(project, FAST, no_input=True)
        checked = [call.form["comment_author"] for call in standin.calls("comment-check")]
    assert code == 0, output
    assert checked == ["Waiting Reader"]
    assert inbox.get_comment(connection, held["id"])["status"] != "pending"
    connection.close()


def test_clean_samples_leaves_only_what_she_wrote(tmp_path: Path) -> None:
    root = tmp_path / "blog"
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "tasks.py", root / "tasks.py")
    shutil.copy(PROJECT_ROOT / "pelicanconf.py", root / "pelicanconf.py")
    shutil.copytree(PROJECT_ROOT / "content", root / "content")
    content = root / "content"
    about = content / "pages" / "about.md"
    about.write_text(about.read_text() + "\nA line of my own.\n")
    (content / "my-first-post.md").write_text(
        "Title: My first post here\nDate: 2026-11-30 09:00\n\nHello from the new place.\n"
    )

    result = subprocess.run(
        [*INVOKE, "clean-samples"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Removed 35 sample files." in result.stdout
    assert "kept pages/about.md: changed since it was a sample" in result.stdout
    left = sorted(p.relative_to(content).as_posix() for p in content.rglob("*") if p.is_file())
    assert left == ["my-first-post.md", "pages/404.md", "pages/about.md"]
    assert not (content / "comments").exists()
    assert not (content / SAMPLES_NAME).exists()

    # What is left builds: her post, her About page and the 404 page.
    output = tmp_path / "output"
    built = run_pelican(content, output)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (output / "2026" / "11" / "my-first-post-here" / "index.html").exists()
    assert not (output / "2016").exists()
