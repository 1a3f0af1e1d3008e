"""`invoke deploy` after a selected publish build sends only the files the build wrote,
with the real rsync into local folders; anything it cannot vouch for is deployed whole."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.intake import INVOKE, copy_project
from tests.support.site import folder_files

SITE_URL = "https://maren-between-sessions.example.net"
THERAPIST = "texting-my-therapist"
THERAPIST_PAGE = "2016/03/texting-my-therapist/index.html"
RULES = "the-rules-we-settled-on"
RULES_PAGE = "2017/10/the-rules-we-settled-on/index.html"
WHOLE_UNKNOWN = "deploy: whole: no record of what DEPLOY_TARGET holds"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "laptop").mkdir()
    return copy_project(tmp_path / "laptop")


def invoke(checkout: Path, *task: str, target: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_SESSIONS_")}
    env = {
        **clean,
        "BETWEEN_SESSIONS_SITEURL": SITE_URL,
        "BETWEEN_SESSIONS_DEPLOY_TARGET": str(target),
    }
    return subprocess.run(
        [str(INVOKE), *task], cwd=checkout, env=env, capture_output=True, text=True, timeout=600
    )


def deployed(checkout: Path, target: Path) -> str:
    """`invoke deploy` to `target`, which must succeed; returns what it printed."""
    result = invoke(checkout, "deploy", target=target)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def stamps(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns
        for path in folder.rglob("*")
        if path.is_file()
    }


def comment_on(checkout: Path, post: str, words: str) -> None:
    """A published comment file on `post`, as `invoke moderate` writes one."""
    folder = checkout / "content" / "comments" / post
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "20260102090000-5ee1ec7e.md").write_text(
        f"author: Wren\ndate: 2026-01-02T09:00:00+00:00\n\n{words}\n", encoding="utf-8"
    )


def test_a_selected_deploy_sends_just_what_the_builds_wrote(checkout: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    assert WHOLE_UNKNOWN in deployed(checkout, www)
    output = checkout / "output-publish"
    built, touched, live = folder_files(output), stamps(output), stamps(www)

    # Two builds before the deploy: it must send what either of them wrote.
    comment_on(checkout, THERAPIST, "Reading this on the bus home, I felt a little less odd.")
    published = invoke(checkout, "publish", target=www)
    assert "publish: selected" in published.stdout, published.stdout + published.stderr
    comment_on(checkout, RULES, "We settled on one text a week, and it has held.")
    printed = deployed(checkout, www)

    rebuilt, retouched = folder_files(output), stamps(output)
    changed = {path for path in rebuilt if rebuilt[path] != built.get(path)}
    assert {THERAPIST_PAGE, RULES_PAGE, "comments.json"} <= changed
    # Those the builds wrote are checked (Pelican copies the theme's static files anew on
    # every build, the same bytes); those whose bytes changed are sent.
    written = {path for path in retouched if retouched[path] != touched.get(path)}
    assert f"deploy: selected: the {len(written)} file(s) the publish builds wrote" in printed
    assert f"deploy: {len(changed)} file(s) sent or deleted" in printed
    # Exactly those files changed on the server, and it now holds the whole new build.
    now = stamps(www)
    assert {path for path in now if now[path] != live.get(path)} == changed
    assert folder_files(www) == rebuilt
    # What a whole deploy of the same build gives (another target: whole).
    elsewhere = tmp_path / "elsewhere"
    assert "deploy: whole: the last deploy went to another target" in deployed(checkout, elsewhere)
    assert folder_files(elsewhere) == folder_files(www)
    # Nothing new: nothing sent.
    again = deployed(checkout, elsewhere)
    assert "deploy: selected:" in again and "deploy: 0 file(s) sent" in again


def test_after_a_failed_deploy_the_next_sends_everything_it_missed(
    checkout: Path, tmp_path: Path
) -> None:
    server = tmp_path / "server"
    www = server / "www"
    server.mkdir()
    deployed(checkout, www)

    comment_on(checkout, THERAPIST, "Reading this on the bus home, I felt a little less odd.")
    # The server's folder is not there (rsync makes the last folder of a path, no more).
    server.rename(tmp_path / "away")
    failed = invoke(checkout, "deploy", target=www)
    assert failed.returncode == 1 and "rsync to" in failed.stderr, failed.stdout + failed.stderr
    (tmp_path / "away").rename(server)

    comment_on(checkout, RULES, "We settled on one text a week, and it has held.")
    assert WHOLE_UNKNOWN in deployed(checkout, www)
    assert "a little less odd" in (www / THERAPIST_PAGE).read_text(encoding="utf-8")
    assert folder_files(www) == folder_files(checkout / "output-publish")


def test_a_whole_build_since_the_last_deploy_deploys_whole(checkout: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    deployed(checkout, www)
    stray = www / "an-old-page" / "index.html"
    stray.parent.mkdir()
    stray.write_text("gone after the next whole deploy", encoding="utf-8")
    post = checkout / "content" / "the-first-appointment.md"
    post.write_text(
        post.read_text(encoding="utf-8") + "\nA line added after the fact.\n", encoding="utf-8"
    )
    assert WHOLE_UNKNOWN in deployed(checkout, www)
    assert not stray.exists()
    assert folder_files(www) == folder_files(checkout / "output-publish")


def test_a_file_changed_in_the_publish_folder_between_builds_is_sent_too(
    checkout: Path, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    deployed(checkout, www)
    # Changed after the last build, by hand or another tool: the next build's stamps of
    # what it found differ from those recorded after the last build.
    robots = checkout / "output-publish" / "robots.txt"
    robots.write_text(robots.read_text(encoding="utf-8") + "# kept by hand\n", encoding="utf-8")

    comment_on(checkout, THERAPIST, "Reading this on the bus home, I felt a little less odd.")
    assert "deploy: selected:" in deployed(checkout, www)
    assert "# kept by hand" in (www / "robots.txt").read_text(encoding="utf-8")
    assert folder_files(www) == folder_files(checkout / "output-publish")
