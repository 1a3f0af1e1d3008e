"""Threaded comments in a selected build (the unchanged_files plugin's WRITE_SELECTED_SLUGS):
what it writes is what a whole build of the same content writes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.comment_site import small_site, write_comment
from tests.support.site import folder_files, run_pelican


def build(content: Path, output: Path, *overrides: str) -> None:
    result = run_pelican(content, output, *overrides)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_selected_build_writes_the_posts_feed_the_site_wide_feed_and_comments_json(
    tmp_path: Path,
) -> None:
    content, output = tmp_path / "content", tmp_path / "output"
    small_site(content)
    build(content, output)
    # The newest comment of the site: first in the site-wide feed too.
    write_comment(
        content,
        "single-post",
        "s2",
        "A second one, weeks later.",
        author="Wren",
        date="2016-07-01T10:00:00+00:00",
    )

    build(content, output, f"WRITE_SELECTED_SLUGS={json.dumps(['single-post'])}")
    for written in ("feeds/comments/single-post.atom.xml", "feeds/comments.atom.xml"):
        assert "#comment-s2" in (output / written).read_text(encoding="utf-8"), written
    posts = json.loads((output / "comments.json").read_text(encoding="utf-8"))["posts"]
    assert posts["single-post"]["comments"] == ["s1", "s2"]
    # Every file, the other posts' feeds among them, as a whole build makes it.
    whole = tmp_path / "whole"
    build(content, whole)
    assert folder_files(output) == folder_files(whole)
