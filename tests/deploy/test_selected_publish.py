"""`invoke publish` after moderation: when only comment files changed, only the pages
that show them are built again, and the site is the same as a whole build would make it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from threaded_comments import (
    CommentFile,
    atomic_write,
    format_comment_file,
    likes_text,
    read_comment_file,
)

from moderation import deploy
from moderation.deploy import PUBLISH_INPUTS_NAME
from moderation.settings import load_settings
from tests.support.intake import INVOKE, copy_project
from tests.support.site import folder_files

SITE_URL = "https://maren-between-sessions.example.net"
POST = "texting-my-therapist"
POST_PAGE = "2016/03/texting-my-therapist/index.html"
TIMEZONE = ZoneInfo("Europe/London")
SELECTED = "publish: selected: the comments of 1 post(s) changed"
WHOLE = "publish: whole:"


def publish(checkout: Path, **env: str) -> str:
    """`invoke publish` in `checkout`; returns what it printed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_SESSIONS_")}
    result = subprocess.run(
        [str(INVOKE), "publish"],
        cwd=checkout,
        env={**clean, "BETWEEN_SESSIONS_SITEURL": SITE_URL, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def output_tree(checkout: Path) -> dict[str, bytes]:
    return folder_files(checkout / "output-publish")


def comment_files(checkout: Path) -> dict[Path, CommentFile]:
    folder = checkout / "content" / "comments" / POST
    return {path: read_comment_file(path, TIMEZONE) for path in sorted(folder.glob("*.md"))}


def new_comment(checkout: Path) -> str:
    path = checkout / "content" / "comments" / POST / "20260102090000-5ee1ec7e.md"
    comment = CommentFile(
        id=path.stem,
        author="Wren",
        date=read_comment_file(next(iter(comment_files(checkout))), TIMEZONE).date,
        body="Reading this on the bus home, I felt a little less odd about my own texts.",
    )
    atomic_write({path: format_comment_file(comment)})
    return "I felt a little less odd about my own texts"


def removed_comment(checkout: Path) -> str:
    files = comment_files(checkout)
    parents = {comment.replyto for comment in files.values()}
    path, comment = next((p, c) for p, c in files.items() if c.id not in parents)
    path.unlink()
    return f'id="comment-{comment.id}"'


def like(checkout: Path) -> str:
    path, comment = next(iter(comment_files(checkout).items()))
    liked = dataclasses.replace(comment, likes=comment.likes + 97)
    atomic_write({path: format_comment_file(liked)})
    return likes_text(liked.likes)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "laptop").mkdir()
    return copy_project(tmp_path / "laptop")


@pytest.mark.parametrize("change", [new_comment, removed_comment, like])
def test_a_comment_change_builds_what_a_whole_build_would(
    checkout: Path, change: Callable[[Path], str]
) -> None:
    assert WHOLE in publish(checkout)
    before = output_tree(checkout)
    sign = change(checkout)

    assert SELECTED in publish(checkout)
    selected = output_tree(checkout)
    # The change shows on the post's page.
    assert (sign in selected[POST_PAGE].decode()) != (sign in before[POST_PAGE].decode())

    (checkout / "cache-publish" / PUBLISH_INPUTS_NAME).unlink()
    assert WHOLE in publish(checkout)
    assert output_tree(checkout) == selected


def test_anything_but_comments_builds_the_whole_site(checkout: Path) -> None:
    publish(checkout)
    post = checkout / "content" / "the-first-appointment.md"
    post.write_text(
        post.read_text(encoding="utf-8") + "\nA line added after the first publish.\n",
        encoding="utf-8",
    )
    assert "posts, pages, settings, theme or plugins changed" in publish(checkout)
    assert "A line added after the first publish." in (
        (checkout / "output-publish" / "feeds" / "all.atom.xml").read_text(encoding="utf-8")
    )

    assert SELECTED.replace("1 post(s)", "0 post(s)") in publish(checkout)
    # Another address is another site: every link changes.
    assert WHOLE in publish(checkout, BETWEEN_SESSIONS_SITEURL="https://another.example.net")

    base = checkout / "theme" / "templates" / "base.html"
    base.write_text(
        base.read_text(encoding="utf-8") + "<!-- a theme change -->\n", encoding="utf-8"
    )
    assert WHOLE in publish(checkout)
    assert "<!-- a theme change -->" in (
        (checkout / "output-publish" / "archives" / "index.html").read_text(encoding="utf-8")
    )


def test_a_post_changed_after_the_site_was_read_is_built_next_time(checkout: Path) -> None:
    """`invoke moderate` reads the site's inputs (all but the comment files) at its start:
    the build uses them, and a post changed since then makes the next build whole."""
    settings = load_settings(checkout / "publishconf.py", {"BETWEEN_SESSIONS_SITEURL": SITE_URL})

    def build(_overrides: object) -> None:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        (settings.output_dir / "index.html").write_text("<p>A built site.</p>", encoding="utf-8")

    assert deploy.publish(settings, build).selected is None
    site = deploy.read_site_inputs(settings)
    post = checkout / "content" / "the-first-appointment.md"
    post.write_text(
        post.read_text(encoding="utf-8") + "\nA line added while moderating.\n", encoding="utf-8"
    )

    assert deploy.publish(settings, build, site).selected == ()
    changed = deploy.publish(settings, build)
    assert changed.reason == "whole: posts, pages, settings, theme or plugins changed"


def test_a_failed_build_is_followed_by_a_whole_one(checkout: Path) -> None:
    publish(checkout)
    new_comment(checkout)
    broken = checkout / "content" / "comments" / POST / "20260102100000-0bad0bad.md"
    broken.write_text("author: Wren\n\nNo date, so the build stops.\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_SESSIONS_")}
    failed = subprocess.run(
        [str(INVOKE), "publish"],
        cwd=checkout,
        env={**clean, "BETWEEN_SESSIONS_SITEURL": SITE_URL},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert failed.returncode != 0
    broken.unlink()
    assert "whole: no complete build to start from" in publish(checkout)
