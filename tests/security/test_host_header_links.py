"""Threat: a request with a forged Host header makes the intake hand out links to another
website: a removal link or receipt that sends the reader's private token elsewhere, or a
permalink sent to Akismet (issue 12, item 10). Every link comes from configuration.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import httpx

from tests.support.intake import running_intake, valid_comment

FORGED = {"Host": "evil.example"}


def test_no_answer_or_stored_link_names_the_forged_host(tmp_path):
    with (
        running_intake(tmp_path, comment_rate_limit=None) as url,
        httpx.Client(base_url=url, headers=FORGED) as client,
    ):
        json_answer = client.post("/api/comments", json=valid_comment())
        form_answer = client.post("/api/comments", data=valid_comment())
        receipt = client.get("/api/comments/receipt")
        link = urlsplit(json_answer.json()["removal_url"])
        removal = client.get(f"{link.path}?{link.query}")

    answers = [json_answer, form_answer, receipt, removal]
    assert [answer.status_code for answer in answers] == [202, 303, 200, 200]
    assert json_answer.json()["removal_url"].startswith(f"{url}/api/comments/")
    assert "/remove?token=" in receipt.text
    for answer in answers:
        assert "evil.example" not in answer.text
        assert "evil.example" not in str(answer.headers)
    with sqlite3.connect(tmp_path / "var" / "inbox.sqlite3") as connection:
        permalinks = [row[0] for row in connection.execute("SELECT permalink FROM comments")]
    assert permalinks == [f"{url}/2016/03/texting-my-therapist/"] * 2
