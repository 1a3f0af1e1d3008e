"""`invoke publish` and `invoke deploy`, typed in a copy of the project, to a local folder
and over SSH (a real sshd on loopback, as a blogger's "user@host:/path" target reaches it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.deploy import held_rsync, ssh_server
from tests.support.intake import INVOKE, PROJECT_ROOT, copy_project, invoke_serve

SITE_URL = "https://maren-between-sessions.example.net"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "laptop").mkdir()
    return copy_project(tmp_path / "laptop")


def invoke(checkout: Path, *task: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_SESSIONS_")}
    return subprocess.run(
        [str(INVOKE), *task],
        cwd=checkout,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_publish_refuses_the_placeholder_site_url(checkout: Path) -> None:
    result = invoke(checkout, "publish")
    assert result.returncode == 1
    assert "https://between-sessions.example.org" in result.stderr
    assert "BETWEEN_SESSIONS_SITEURL" in result.stderr
    assert not (checkout / "output-publish").exists()
    deployed = invoke(checkout, "deploy", BETWEEN_SESSIONS_DEPLOY_TARGET=str(checkout / "live"))
    assert deployed.returncode == 1 and "SITEURL" in deployed.stderr
    assert not (checkout / "live").exists()


def test_publish_builds_apart_from_the_preview(checkout: Path) -> None:
    assert invoke(checkout, "build").returncode == 0
    preview = (checkout / "output/index.html").read_text(encoding="utf-8")
    result = invoke(checkout, "publish", BETWEEN_SESSIONS_SITEURL=SITE_URL)
    assert result.returncode == 0, result.stderr
    published = (checkout / "output-publish/index.html").read_text(encoding="utf-8")
    assert f'href="{SITE_URL}/theme/' in published
    # The preview is as `invoke build` left it: its links stay local.
    assert (checkout / "output/index.html").read_text(encoding="utf-8") == preview
    assert SITE_URL not in preview


def test_deploy_without_a_target_says_where_to_set_one(checkout: Path) -> None:
    result = invoke(checkout, "deploy", BETWEEN_SESSIONS_SITEURL=SITE_URL)
    assert result.returncode == 1
    assert "DEPLOY_TARGET" in result.stderr and "BETWEEN_SESSIONS_DEPLOY_TARGET" in result.stderr


def test_deploy_sends_only_what_changed(checkout: Path, tmp_path: Path) -> None:
    live = tmp_path / "www"
    env = {"BETWEEN_SESSIONS_SITEURL": SITE_URL, "BETWEEN_SESSIONS_DEPLOY_TARGET": str(live)}
    first = invoke(checkout, "deploy", **env)
    assert first.returncode == 0, first.stderr
    about = live / "about/index.html"
    post = live / "2016/03/texting-my-therapist/index.html"
    assert (live / "comments.json").is_file() and about.is_file() and post.is_file()
    assert f'href="{SITE_URL}/theme/' in post.read_text(encoding="utf-8")

    unchanged = invoke(checkout, "deploy", **env)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "deploy: 0 file(s) sent or deleted" in unchanged.stdout

    # One post edited, one page gone: those are sent or deleted, an untouched file is not.
    about_stamp = about.stat().st_mtime_ns
    source = checkout / "content/texting-my-therapist.md"
    source.write_text(
        source.read_text(encoding="utf-8") + "\nA line added after the fact.\n", encoding="utf-8"
    )
    stray = live / "an-old-page/index.html"
    stray.parent.mkdir()
    stray.write_text("gone after the next deploy", encoding="utf-8")
    edited = invoke(checkout, "deploy", **env)
    assert edited.returncode == 0, edited.stderr
    assert "A line added after the fact." in post.read_text(encoding="utf-8")
    assert not stray.exists()
    assert about.stat().st_mtime_ns == about_stamp
    # No half-finished state is left behind (rsync --delay-updates's staging folders).
    assert not list(live.rglob(".~tmp~"))


def test_a_second_moderate_waits_for_the_first_ones_deploy(checkout: Path, tmp_path: Path) -> None:
    """`invoke moderate --deploy` deploys inside its one-run lock: a second run started
    while the first one's rsync runs does nothing, so never rebuilds what is being sent."""
    live = tmp_path / "www"
    env = {"BETWEEN_SESSIONS_SITEURL": SITE_URL, "BETWEEN_SESSIONS_DEPLOY_TARGET": str(live)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_SESSIONS_")}
    with held_rsync(tmp_path / "held") as rsync:
        first = subprocess.Popen(
            [str(INVOKE), "moderate", "--no-input", "--deploy"],
            cwd=checkout,
            env={**clean, **env, "PATH": rsync.path},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            rsync.wait_until_started(first)
            second = invoke(checkout, "moderate", "--no-input", "--deploy", **env)
            assert second.returncode == 3, second.stdout + second.stderr
            assert "Another `invoke moderate` is running" in second.stdout
            assert "publish:" not in second.stdout
            assert not live.exists()
        finally:
            rsync.open()
            output = first.communicate(timeout=600)[0]
    assert first.returncode == 0, output
    assert (live / "2016/03/texting-my-therapist/index.html").is_file()


def test_the_local_feeds_name_the_port_that_serves_them(checkout: Path) -> None:
    with invoke_serve(checkout, dict(os.environ)) as url:
        feed = httpx.get(url + "/feeds/all.atom.xml").text
    assert f"{url}/" in feed
    assert "127.0.0.1:8000" not in feed


def test_deploy_over_ssh_sends_the_site_and_then_only_what_changed(
    checkout: Path, tmp_path: Path
) -> None:
    live = tmp_path / "server" / "www"
    live.parent.mkdir()  # the server's /var/www, made when it was set up
    with ssh_server(tmp_path / "sshd") as server:
        env = {
            "BETWEEN_SESSIONS_SITEURL": SITE_URL,
            "BETWEEN_SESSIONS_DEPLOY_TARGET": server.target(live),
            "RSYNC_RSH": server.rsync_rsh,
        }
        first = invoke(checkout, "deploy", **env)
        assert first.returncode == 0, first.stderr
        post = live / "2016/03/texting-my-therapist/index.html"
        assert f'href="{SITE_URL}/theme/' in post.read_text(encoding="utf-8")
        assert (live / "comments.json").is_file()
        # Readable by the web server's user, whatever the author's umask.
        assert post.stat().st_mode & 0o777 == 0o644

        again = invoke(checkout, "deploy", **env)
        assert again.returncode == 0, again.stderr
        assert "deploy: 0 file(s) sent or deleted" in again.stdout


def test_an_unreachable_server_is_a_clear_failure_and_changes_nothing(
    checkout: Path, tmp_path: Path
) -> None:
    live = tmp_path / "server" / "www"
    with ssh_server(tmp_path / "sshd") as server:
        target, rsync_rsh = server.target(live), server.rsync_rsh
    # The server is gone: the deploy says so and the author's build is untouched.
    failed = invoke(
        checkout,
        "deploy",
        BETWEEN_SESSIONS_SITEURL=SITE_URL,
        BETWEEN_SESSIONS_DEPLOY_TARGET=target,
        RSYNC_RSH=rsync_rsh,
    )
    assert failed.returncode == 1
    assert "rsync to" in failed.stderr and "failed" in failed.stderr
    assert (checkout / "output-publish/index.html").is_file()
    assert not live.exists()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def test_gh_pages_pushes_the_publish_build_to_a_pages_branch(
    checkout: Path, tmp_path: Path
) -> None:
    # The author's blog is a git repository with a remote, as on GitHub.
    shutil.copy(PROJECT_ROOT / ".gitignore", checkout / ".gitignore")
    remote = tmp_path / "github.git"
    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    identity = ["-c", "user.name=Maren", "-c", "user.email=maren@example.net"]
    git("init", "--quiet", "--initial-branch=main", cwd=checkout)
    git("add", "-A", cwd=checkout)
    git(*identity, "commit", "--quiet", "-m", "My blog", cwd=checkout)
    git("remote", "add", "origin", str(remote), cwd=checkout)
    before = git("status", "--porcelain", cwd=checkout)

    result = invoke(
        checkout,
        "gh-pages",
        BETWEEN_SESSIONS_SITEURL=SITE_URL,
        GIT_AUTHOR_NAME="Maren",
        GIT_AUTHOR_EMAIL="maren@example.net",
        GIT_COMMITTER_NAME="Maren",
        GIT_COMMITTER_EMAIL="maren@example.net",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    published = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).splitlines()
    assert {"index.html", ".nojekyll", "2016/03/texting-my-therapist/index.html"} <= set(published)
    post = git("show", "gh-pages:2016/03/texting-my-therapist/index.html", cwd=remote)
    assert f'href="{SITE_URL}/theme/' in post
    # Her own branch and working tree are as they were.
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=checkout).strip() == "main"
    assert git("status", "--porcelain", cwd=checkout) == before


def test_gh_pages_without_a_remote_says_so(checkout: Path) -> None:
    git("init", "--quiet", cwd=checkout)
    result = invoke(checkout, "gh-pages", BETWEEN_SESSIONS_SITEURL=SITE_URL)
    assert result.returncode == 1
    assert "gh-pages:" in result.stderr and "origin" in result.stderr
