"""pelican-comment-system's layout: a comment id is unique within its post only.

Two posts each have a published comment `0` (that plugin's own example keeps `0.md` in two
post folders). A reader likes one of them through the HTTP intake, the author runs the
pipeline, and only that post's file counts the like.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from threaded_comments import (
    CommentFile,
    PostEntry,
    comment_path,
    format_comment_file,
    read_comment_file,
    write_comments_json,
)

from moderation.intake.app import create_app
from tests.support.intake import running
from tests.support.moderation import make_project, run_pipeline

POSTS = ("first-post", "second-post")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A built project whose two posts each have a published comment `0`."""
    for name in ("PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL", "AKISMET_API_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = make_project(tmp_path / "project")
    entries = []
    for slug in POSTS:
        comment = CommentFile(
            id="0",
            author="Wren",
            date=datetime(2016, 3, 15, 10, tzinfo=UTC),
            body=f"The first comment on {slug}.",
        )
        path = comment_path(settings.comments_dir, slug, "0")
        path.parent.mkdir(parents=True)
        path.write_text(format_comment_file(comment), encoding="utf-8")
        entries.append(PostEntry(slug, f"/{slug}/", slug, True, comments=("0",)))
    write_comments_json(settings.comments_json, entries)
    return settings


def test_a_like_counts_for_its_own_post_only(project):
    second = comment_path(project.comments_dir, POSTS[1], "0")
    untouched = second.read_text(encoding="utf-8")
    with running(create_app(project)) as url:
        liked = httpx.post(url + "/api/likes", json={"post": POSTS[0], "comment": "0"})
        counts = {
            slug: httpx.get(url + "/api/likes", params={"post": slug}).json()["likes"]
            for slug in POSTS
        }
    assert liked.status_code == 200 and liked.json()["likes"] == 1
    assert counts == {POSTS[0]: {"0": 1}, POSTS[1]: {"0": 0}}

    code, output = run_pipeline(project, no_input=True)

    assert code == 0, output
    assert read_comment_file(comment_path(project.comments_dir, POSTS[0], "0"), UTC).likes == 1
    assert second.read_text(encoding="utf-8") == untouched


def test_one_reader_may_like_both_comments_0(project):
    with running(create_app(project)) as url:
        answers = [
            httpx.post(url + "/api/likes", json={"post": slug, "comment": "0"}).json()
            for slug in POSTS
        ]
    assert [(answer["added"], answer["likes"]) for answer in answers] == [(True, 1), (True, 1)]

    code, output = run_pipeline(project, no_input=True)

    assert code == 0, output
    for slug in POSTS:
        assert read_comment_file(comment_path(project.comments_dir, slug, "0"), UTC).likes == 1
