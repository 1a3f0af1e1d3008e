"""Threat: one reader (or many) floods the intake with comments faster than the author can
read them, filling the inbox and the disk (issue 12, item 1).

Each test runs the attack against a real uvicorn server on loopback.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import httpx

from moderation import inbox
from tests.support.intake import run_async, running_intake, valid_comment

JSON = {"Accept": "application/json"}


async def post_at_once(url: str, count: int) -> list[httpx.Response]:
    """`count` comment posts sent concurrently, over as many connections."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/comments",
                    json=valid_comment(comment=f"Flood {number}: the same words again."),
                    headers=JSON,
                )
                for number in range(count)
            )
        )


def stored_comments(folder: Path) -> int:
    with sqlite3.connect(folder / "var" / "inbox.sqlite3") as connection:
        return connection.execute("SELECT COUNT(*) FROM comments").fetchone()[0]


def test_two_hundred_concurrent_posts_from_one_address_get_at_most_the_limit(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=(5, 600)) as url:
        answers = run_async(post_at_once(url, 200))

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(202) == 5
    assert statuses.count(429) == 195
    assert all(
        answer.headers["retry-after"].isdigit() for answer in answers if answer.status_code == 429
    )
    assert stored_comments(tmp_path) == 5


def test_past_the_waiting_cap_comments_get_503_with_retry_after_and_a_log_line(tmp_path, caplog):
    # Eight comments already wait for the author (held or pending); the cap is ten.
    connection = inbox.connect(tmp_path / "var" / "inbox.sqlite3")
    for number in range(8):
        comment_id = inbox.add_comment(
            connection,
            inbox.NewComment(
                post_slug="texting-my-therapist",
                author="Earlier reader",
                email="earlier@example.org",
                body=f"An earlier comment, number {number}.",
                permalink="/2016/03/texting-my-therapist/",
            ),
        )
        if number % 2:
            with inbox.transaction(connection):
                inbox.decide(connection, comment_id, inbox.Status.HELD, "rule", ["test"])
    connection.close()

    with (
        caplog.at_level(logging.WARNING, logger="moderation.intake"),
        running_intake(tmp_path, comment_rate_limit=None, max_waiting=10) as url,
    ):
        answers = run_async(post_at_once(url, 40))

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(202) == 2
    assert statuses.count(503) == 38
    refused = next(answer for answer in answers if answer.status_code == 503)
    assert int(refused.headers["retry-after"]) > 0
    assert "waiting for moderation" in refused.json()["error"]
    assert stored_comments(tmp_path) == 10
    assert any("the cap" in record.getMessage() for record in caplog.records)
