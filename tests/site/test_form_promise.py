"""The comment form says what actually happens to a comment (issue 14): its promise follows
the MODERATION settings, and the reply-mail box starts unticked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.site import PROJECT_ROOT, read_html, run_pelican

POST_PAGE = Path("2016/03/texting-my-therapist/index.html")


def form_of(site: Path):
    return read_html(site / POST_PAGE).select_one("form#commentform")


def test_the_sample_settings_promise_that_a_first_comment_waits(sample_site: Path) -> None:
    notes = form_of(sample_site).select_one(".comment-notes").get_text(" ", strip=True)
    assert "your first comment appears here once the author has read it" in notes
    assert "passes the spam check appears when the blog is next updated" in notes


def test_the_reply_mail_box_is_there_and_unticked(sample_site: Path) -> None:
    box = form_of(sample_site).select_one("input[type=checkbox][name=subscribe]")
    assert box is not None and not box.has_attr("checked")
    label = form_of(sample_site).select_one(f"label[for={box['id']}]").get_text(strip=True)
    assert label == "Email me when someone replies to my comment"


@pytest.mark.parametrize(
    ("moderation", "promise"),
    [
        ('{"HOLD_ALL": true}', "yours appears here once the author has read it."),
        (
            '{"HOLD_FIRST_COMMENT": false}',
            "a comment that passes the spam check appears when the blog is next updated; "
            "others wait until the author has read them.",
        ),
    ],
)
def test_other_settings_change_the_promise(tmp_path: Path, moderation: str, promise: str) -> None:
    output = tmp_path / "output"
    result = run_pelican(PROJECT_ROOT / "content", output, f"MODERATION={moderation}")
    assert result.returncode == 0, result.stdout + result.stderr
    notes = form_of(output).select_one(".comment-notes").get_text(" ", strip=True)
    assert promise in notes
    assert "first comment" not in notes
