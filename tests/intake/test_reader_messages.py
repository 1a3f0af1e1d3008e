"""The intake's words to a reader: waits in human time, on its own themed pages."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup

from moderation.intake.pages import human_wait
from tests.support.intake import running_intake, valid_comment


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (3, "a few seconds"),
        (28, "about 30 seconds"),
        (60, "about a minute"),
        (519, "about 9 minutes"),
        (600, "about 10 minutes"),
        (3600, "about an hour"),
        (3 * 3600 + 100, "about 3 hours"),
    ],
)
def test_waits_are_said_in_human_time(seconds: int, said: str) -> None:
    assert human_wait(seconds) == said


def test_a_comment_flood_is_told_to_wait_about_ten_minutes(tmp_path) -> None:
    with running_intake(tmp_path, comment_rate_limit=(2, 600)) as url:
        for n in range(2):
            httpx.post(f"{url}/api/comments", data=valid_comment(comment=f"Note {n}"))
        refused = httpx.post(f"{url}/api/comments", data=valid_comment(comment="Note 3"))
        scripted = httpx.post(f"{url}/api/comments", json=valid_comment(comment="Note 4"))

    assert refused.status_code == scripted.status_code == 429
    alert = BeautifulSoup(refused.text, "html.parser").find(attrs={"role": "alert"})
    assert alert.get_text() == "Too many comments from your address; please wait about 10 minutes."
    assert scripted.json()["error"].endswith("please wait about 10 minutes.")
    assert "seconds" not in refused.text


def test_before_the_first_build_the_pages_still_wear_the_stylesheet(tmp_path) -> None:
    """No built shell yet (only comments.json): a plain page in the site's stylesheet."""
    with running_intake(tmp_path) as url:
        answer = httpx.get(f"{url}/api/comments/receipt")
    page = BeautifulSoup(answer.text, "html.parser")
    assert answer.status_code == 404
    assert page.find("link", rel="stylesheet")["href"] == "/theme/css/main.css"
    assert page.h1.get_text() == "Nothing to show"
    assert page.title.get_text() == "Nothing to show"
