"""The intake's parts, each on its own: field checks, rate limits, targets, the group writer,
the one-port site app, and the `python -m moderation.intake.server` entry point."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from threaded_comments import CommentFile, format_comment_file, parse_comment_file

from moderation import inbox
from moderation.intake.forms import Refusal, check_comment_form
from moderation.intake.ratelimit import RateLimiter
from moderation.intake.server import site_app, with_live_likes
from moderation.intake.targets import Targets, TargetsUnavailableError
from moderation.intake.writer import InboxWriter
from tests.support.intake import (
    OPEN_POST,
    OPEN_URL,
    TARGETS,
    free_port,
    intake_settings_for,
    running,
    valid_comment,
    wait_for_port,
    write_targets,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# --- forms ---


def run_in_fresh_loop(coroutine):
    """asyncio.run in its own thread: Playwright's sync API (the session's browser fixture)
    keeps an event loop running in the main thread once a browser test has run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_check_comment_form_trims_and_normalises():
    fields = check_comment_form(
        valid_comment(author="  Wren ", comment="\r\nFirst line\r\nsecond line\r\n", replyto="c1")
    )
    assert fields.author == "Wren"
    assert fields.comment == "First line\nsecond line"
    assert fields.replyto == "c1"
    assert fields.website is None
    assert fields.honeypot is False


def test_check_comment_form_names_the_field_at_fault():
    with pytest.raises(Refusal) as refused:
        check_comment_form(valid_comment(website="data:text/html,hi"))
    assert (refused.value.status, refused.value.field) == (422, "website")


WEBSITES = st.one_of(
    st.text(max_size=60),
    st.text(max_size=60).map("http://x.example/".__add__),
    st.text(max_size=60).map("https://".__add__),
)


@given(WEBSITES)
def test_every_website_the_form_accepts_is_kept_by_the_comment_file(website):
    try:
        fields = check_comment_form(valid_comment(website=website))
    except Refusal as refusal:
        assert refusal.field == "website"
        return
    comment = CommentFile(
        id="c1",
        author="Wren",
        date=datetime(2026, 1, 2, tzinfo=UTC),
        body="Hello.",
        website=fields.website,
    )
    published = parse_comment_file("c1.md", format_comment_file(comment), UTC)
    assert published.website == (website.strip() or None)


# --- rate limits ---


def test_rate_limiter_slides_its_window():
    now = [1000.0]
    limits = RateLimiter("test", 2, 60, clock=lambda: now[0])
    limits.hit("a")
    limits.hit("a")
    assert limits.retry_after("a") == 60
    assert limits.retry_after("b") == 0
    now[0] += 30
    assert limits.retry_after("a") == 30
    now[0] += 30
    assert limits.retry_after("a") == 0


# --- targets ---


def test_targets_follow_the_file_and_keep_the_last_good_one(tmp_path):
    path = write_targets(tmp_path)
    targets = Targets(path)
    assert targets.post(OPEN_POST).url == OPEN_URL
    assert targets.post_at(OPEN_URL).slug == OPEN_POST

    path.write_text('{"posts": {"brand-new": {"url": "/x/", "open": true}}}  ')
    assert targets.post(OPEN_POST) is None
    assert targets.post("brand-new").open

    path.write_text("{half a file")
    assert targets.post("brand-new").open  # caught mid-write: the last good one stays


def test_missing_targets_say_so(tmp_path):
    with pytest.raises(TargetsUnavailableError):
        Targets(tmp_path / "comments.json").post(OPEN_POST)


# --- the group writer ---


def test_a_failing_job_does_not_sink_its_batch(tmp_path):
    writer = InboxWriter(tmp_path / "inbox.sqlite3")
    comment = inbox.NewComment(
        post_slug=OPEN_POST, author="Wren", email="w@example.org", body="hi", permalink="/"
    )

    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO no_such_table VALUES (1)")

    async def many() -> list:
        jobs = [writer.write(lambda c: inbox.insert_comment(c, comment)) for _ in range(20)]
        jobs.insert(7, writer.write(broken))
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = run_in_fresh_loop(many())
    finally:
        writer.close()

    assert isinstance(results[7], sqlite3.OperationalError)
    ids = [result for result in results if isinstance(result, str)]
    with sqlite3.connect(tmp_path / "inbox.sqlite3") as connection:
        stored = [row[0] for row in connection.execute("SELECT id FROM comments")]
    assert len(ids) == 20
    assert sorted(stored) == sorted(ids)


def test_writer_uses_the_configured_synchronous_mode(tmp_path):
    writer = InboxWriter(tmp_path / "inbox.sqlite3", synchronous="NORMAL")
    try:
        level = run_in_fresh_loop(
            writer.write(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
        )
    finally:
        writer.close()
    assert level == 1  # NORMAL


# --- the one-port site app (what `invoke serve` runs) ---


@pytest.fixture
def built_site(tmp_path: Path) -> Path:
    output = tmp_path / "output"
    (output / OPEN_URL.strip("/")).mkdir(parents=True)
    (output / "index.html").write_text("<h1>Between Sessions</h1>")
    (output / "404.html").write_text("<h1>Not here</h1>")
    (output / OPEN_URL.strip("/") / "index.html").write_text(
        '<p class="comment-likes" data-comment-id="c001">Liked by 2 people</p>'
        '<p class="comment-likes" data-comment-id="c002"></p>'
    )
    return tmp_path


def test_site_app_serves_pages_404_and_the_intake_on_one_port(built_site):
    app = site_app(intake_settings_for(built_site))
    with running(app) as url:
        home = httpx.get(url + "/")
        missing = httpx.get(url + "/no/such/page/")
        redirect = httpx.get(url + OPEN_URL.rstrip("/"))
        like = httpx.post(url + "/api/likes", json={"post": OPEN_POST, "comment": "c002"})
        page = httpx.get(url + OPEN_URL)

    assert (home.status_code, home.text) == (200, "<h1>Between Sessions</h1>")
    assert (missing.status_code, missing.text) == (404, "<h1>Not here</h1>")
    assert redirect.status_code in (301, 307) and redirect.headers["location"].endswith(OPEN_URL)
    assert like.json()["likes"] == 1
    # The page shows the like before any rebuild, so a reader without JavaScript sees it.
    assert page.text == (
        '<p class="comment-likes" data-comment-id="c001">Liked by 2 people</p>'
        '<p class="comment-likes" data-comment-id="c002">Liked by 1 person</p>'
    )


def test_live_likes_fill_only_the_like_count_elements():
    page = (
        '<article id="comment-0" data-comment-id="0">Words'
        '<p data-comment-id="0" class="small comment-likes">Liked by 2 people</p></article>'
        '<p class="comment-likes" data-comment-id="9"></p>'
        '<p class="comment-likes-note" data-comment-id="0">a note</p>'
    )
    assert with_live_likes(page, {"0": 3, "9": 1}) == (
        '<article id="comment-0" data-comment-id="0">Words'
        '<p data-comment-id="0" class="small comment-likes">Liked by 3 people</p></article>'
        '<p class="comment-likes" data-comment-id="9">Liked by 1 person</p>'
        '<p class="comment-likes-note" data-comment-id="0">a note</p>'
    )


# --- the entry point tests and production use ---


def test_python_m_moderation_intake_server_serves_another_project_folder(tmp_path):
    (tmp_path / "pelicanconf.py").write_text('SITEURL = "https://blog.example.org"\n')
    write_targets(tmp_path / "output", TARGETS)
    inbox_path = tmp_path / "elsewhere" / "inbox.sqlite3"
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "moderation.intake.server", "--intake-only"),
            *("--settings", str(tmp_path / "pelicanconf.py"), "--port", str(port)),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "COMMENT_INTAKE_INBOX": str(inbox_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, alive=lambda: server.poll() is None)
        answer = httpx.post(f"http://127.0.0.1:{port}/api/comments", data=valid_comment())
    finally:
        server.send_signal(signal.SIGINT)
        log = server.communicate(timeout=30)[0]

    assert answer.status_code == 303, log
    assert answer.headers["location"] == f"https://blog.example.org{OPEN_URL}#comment-pending"
    with sqlite3.connect(inbox_path) as connection:
        assert connection.execute("SELECT count(*) FROM comments").fetchone()[0] == 1
    assert not (tmp_path / "var").exists()
    assert "POST /api/comments" not in log  # no access log: readers' addresses stay out
    assert json.loads((tmp_path / "output" / "comments.json").read_text()) == TARGETS
