"""Threat: input built to break the intake, the inbox or the feeds downstream (issue 12,
items 6 and 11, and what was seen on the way): every such body gets a clear 4xx, never a
503, and nothing reaches the inbox. Against a real uvicorn server on loopback.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.intake import run_async, running_intake, valid_comment

JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def stored(folder: Path) -> list[sqlite3.Row]:
    path = folder / "var" / "inbox.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute("SELECT * FROM comments").fetchall()


@pytest.fixture
def intake(tmp_path):
    with (
        running_intake(tmp_path, comment_rate_limit=None) as url,
        httpx.Client(base_url=url, headers={"Accept": "application/json"}) as client,
    ):
        yield client


def test_json_nested_twenty_thousand_deep_is_a_clear_400(intake, tmp_path):
    body = "[" * 20_000 + "]" * 20_000
    answer = intake.post("/api/comments", content=body, headers=JSON)
    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["error"]
    assert stored(tmp_path) == []


def test_a_lone_surrogate_is_a_clear_400_and_does_not_sink_the_batch_around_it(intake, tmp_path):
    surrogate = (
        '{"post": "texting-my-therapist", "author": "Wren", "email": "wren@example.org",'
        ' "comment": "half a character: \\ud800"}'
    )

    async def together() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(intake.base_url), timeout=60) as client:
            valid = [
                client.post("/api/comments", json=valid_comment(comment=f"Note {n}."))
                for n in range(30)
            ]
            bad = client.post("/api/comments", content=surrogate, headers=JSON)
            return await asyncio.gather(bad, *valid)

    bad, *valid = run_async(together())
    assert bad.status_code == 400
    assert "not valid Unicode" in bad.json()["error"]
    assert [answer.status_code for answer in valid] == [202] * 30
    assert len(stored(tmp_path)) == 30


@pytest.mark.parametrize("field", ["author", "comment"])
@pytest.mark.parametrize("character", ["\ufffe", "\uffff"])
def test_a_character_xml_cannot_carry_is_refused_with_422(intake, tmp_path, field, character):
    answer = intake.post("/api/comments", json=valid_comment(**{field: f"Wren{character} again"}))
    assert answer.status_code == 422
    assert answer.json()["field"] == field
    assert stored(tmp_path) == []


def test_a_name_of_zero_width_characters_only_is_refused(intake, tmp_path):
    answer = intake.post("/api/comments", json=valid_comment(author="\u200b\u200c\u200d\u2060"))
    assert answer.status_code == 422
    assert answer.json()["field"] == "author"
    assert stored(tmp_path) == []


def test_a_name_is_normalised_and_loses_its_direction_overrides(intake, tmp_path):
    # "Zoe" with a combining accent, and a right-to-left override that would turn the
    # text after it around on the page.
    answer = intake.post("/api/comments", json=valid_comment(author="Zoe\u0301\u202e drow"))
    assert answer.status_code == 202
    assert stored(tmp_path)[0]["author"] == "Zo\u00e9 drow"


def test_an_email_with_a_nul_is_refused(intake, tmp_path):
    answer = intake.post("/api/comments", json=valid_comment(email="wren\x00@example.org"))
    assert answer.status_code == 422
    assert answer.json()["field"] == "email"
    assert stored(tmp_path) == []


def test_multipart_that_is_not_utf8_is_a_400_as_for_urlencoded_forms(intake, tmp_path):
    parts = {name: (None, value.encode()) for name, value in valid_comment().items()}
    parts["author"] = (None, "Zoë".encode("latin-1"))
    multipart = intake.post("/api/comments", files=parts)
    urlencoded = intake.post(
        "/api/comments",
        content=b"post=texting-my-therapist&author=Zo%EB&email=a%40b.org&comment=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (multipart.status_code, urlencoded.status_code) == (400, 400)
    assert "UTF-8" in multipart.json()["error"]
    assert stored(tmp_path) == []
