"""Many readers at once: every accepted comment is in the inbox exactly once."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.support.intake import running_intake, valid_comment

THREADS = 20
POSTS_EACH = 25


def post_many(url: str, thread: int) -> list[str]:
    """One reader's 25 comments, each answered before the next is sent; returns their ids."""
    ids = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for number in range(POSTS_EACH):
            text = f"Thread {thread}, note {number}: the quiet after the session."
            response = client.post("/api/comments", json=valid_comment(comment=text))
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
    return ids


def test_twenty_threads_of_twenty_five_posts_give_exactly_500_rows(tmp_path: Path):
    with (
        running_intake(tmp_path, comment_rate_limit=None) as url,
        ThreadPoolExecutor(THREADS) as pool,
    ):
        answered = [
            comment_id
            for ids in pool.map(post_many, [url] * THREADS, range(THREADS))
            for comment_id in ids
        ]

    with sqlite3.connect(tmp_path / "var" / "inbox.sqlite3") as connection:
        rows = connection.execute("SELECT id, body FROM comments").fetchall()
    expected = {
        f"Thread {thread}, note {number}: the quiet after the session."
        for thread in range(THREADS)
        for number in range(POSTS_EACH)
    }
    assert len(rows) == THREADS * POSTS_EACH
    assert {body for _, body in rows} == expected  # none lost, none twice (500 distinct)
    assert sorted(comment_id for comment_id, _ in rows) == sorted(answered)
    assert len(set(answered)) == len(answered)
