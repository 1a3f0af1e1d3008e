"""Threat: a reader, or a page on another website, forges likes and comments in other
readers' names (issue 12, item 5).

- many likes from one machine, each with another address or user agent;
- a page elsewhere that posts a form to the intake from the reader's browser (CSRF);
- likes on a post whose comments are closed.

Each attack runs against a real uvicorn server on loopback; the cross-site form is sent by
a real Chromium from a page served on another loopback origin.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.support.intake import (
    CLOSED_POST,
    OPEN_POST,
    OPEN_URL,
    run_async,
    running,
    running_intake,
    valid_comment,
)

EVIL = "http://evil.example"
SITE = "https://between-sessions.example.org"


def rows(folder: Path, table: str) -> int:
    path = folder / "var" / "inbox.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def like_from_many_readers(url: str, count: int) -> list[httpx.Response]:
    """`count` concurrent likes of one comment, each from another address and user agent
    (X-Forwarded-For from the trusted loopback proxy, as a botnet behind it would look)."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/likes",
                    json={"post": OPEN_POST, "comment": "c001"},
                    headers={
                        "X-Forwarded-For": f"203.0.113.{number % 250 + 1}",
                        "User-Agent": f"Forged/{number}",
                    },
                )
                for number in range(count)
            )
        )


def test_likes_from_many_addresses_on_one_comment_stop_at_the_per_comment_limit(tmp_path):
    with running_intake(tmp_path, comment_like_rate_limit=(20, 3600)) as url:
        answers = run_async(like_from_many_readers(url, 150))
        live = httpx.get(f"{url}/api/likes", params={"post": OPEN_POST}).json()["likes"]

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 20
    assert statuses.count(429) == 130
    # The published 2 plus at most 20 new, not 152.
    assert live["c001"] == 22
    assert rows(tmp_path, "likes") == 20


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/comments", valid_comment()),
        ("/api/likes", {"post": OPEN_POST, "comment": "c001"}),
    ],
)
@pytest.mark.parametrize(
    "headers", [{"Origin": EVIL}, {"Referer": f"{EVIL}/win-a-prize"}, {"Origin": "null"}]
)
def test_a_post_from_another_origin_is_refused_and_stores_nothing(tmp_path, path, fields, headers):
    with running_intake(tmp_path, comment_rate_limit=None) as url:
        answer = httpx.post(url + path, data=fields, headers=headers)

    assert answer.status_code == 403
    assert "another website" in answer.text
    assert rows(tmp_path, "comments") == rows(tmp_path, "likes") == 0


def test_the_site_and_the_configured_allowed_origin_may_post(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=None, allowed_origin=SITE) as url:
        own = httpx.post(
            f"{url}/api/comments", data=valid_comment(), headers={"Origin": url}
        ).status_code
        allowed = httpx.post(
            f"{url}/api/likes",
            data={"post": OPEN_POST, "comment": "c001"},
            headers={"Origin": SITE, "Referer": f"{SITE}{OPEN_URL}"},
        ).status_code
        scripted = httpx.post(f"{url}/api/comments", json=valid_comment()).status_code

    assert (own, allowed, scripted) == (303, 303, 202)
    assert rows(tmp_path, "comments") == 2
    assert rows(tmp_path, "likes") == 1


def test_a_host_header_does_not_make_an_origin_its_own(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=None) as url:
        answer = httpx.post(
            f"{url}/api/comments",
            data=valid_comment(),
            headers={"Host": "evil.example", "Origin": EVIL},
        )

    assert answer.status_code == 403
    assert rows(tmp_path, "comments") == 0


def test_a_closed_post_takes_no_likes(tmp_path):
    with running_intake(tmp_path) as url:
        answer = httpx.post(f"{url}/api/likes", json={"post": CLOSED_POST, "comment": "c100"})

    assert answer.status_code == 403
    assert "closed" in answer.json()["error"]
    assert rows(tmp_path, "likes") == 0


@pytest.mark.browser
def test_a_page_elsewhere_cannot_post_a_comment_through_the_readers_browser(tmp_path, browser):
    """The classic CSRF: a page on another origin submits a hidden form to the intake."""
    with running_intake(tmp_path, comment_rate_limit=None) as intake_url:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{value}">'
            for name, value in valid_comment(comment="Posted without my knowing.").items()
        )
        page_html = (
            f'<form id="f" method="post" action="{intake_url}/api/comments">{fields}</form>'
            '<script>document.getElementById("f").submit()</script>'
        )

        async def attack_page(request):
            return HTMLResponse(page_html)

        with running(Starlette(routes=[Route("/", attack_page)])) as evil_url:
            context = browser.new_context()
            page = context.new_page()
            with page.expect_navigation(url=f"{intake_url}/api/comments"):
                page.goto(evil_url)
            shown = page.content()
            context.close()

    assert "another website" in shown
    assert rows(tmp_path, "comments") == 0
