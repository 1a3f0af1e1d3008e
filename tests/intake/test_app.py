"""The intake over real HTTP (uvicorn on a free loopback port): what a reader's browser sees."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from threaded_comments import website_problem

from moderation.inbox import hash_token
from tests.support.intake import (
    CLOSED_POST,
    OPEN_POST,
    OPEN_URL,
    TARGETS,
    running_intake,
    valid_comment,
    write_targets,
)

JSON = {"Accept": "application/json"}


def inbox_rows(folder: Path, table: str = "comments") -> list[sqlite3.Row]:
    path = folder / "var" / "inbox.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(f"SELECT * FROM {table}").fetchall()


@pytest.fixture
def intake(tmp_path: Path):
    """An intake with rate limits off; yields an httpx client pointed at it."""
    with (
        running_intake(tmp_path, comment_rate_limit=None, like_rate_limit=None) as url,
        httpx.Client(base_url=url, headers={"User-Agent": "test-browser/1.0"}) as client,
    ):
        yield client


def test_form_post_redirects_to_the_pending_notice_after_the_row_is_committed(intake, tmp_path):
    response = intake.post(
        "/api/comments",
        data=valid_comment(website="https://wren.example.net"),
        # The site's own page (issue 12: a Referer of another origin is refused).
        headers={"Referer": f"{intake.base_url}".rstrip("/") + OPEN_URL},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{OPEN_URL}#comment-pending"
    [row] = inbox_rows(tmp_path)
    assert row["status"] == "pending"
    assert row["post_slug"] == OPEN_POST
    assert row["author"] == "Wren"
    assert row["email"] == "wren@example.org"
    assert row["website"] == "https://wren.example.net"
    assert row["ip"] == "127.0.0.1"
    assert row["user_agent"] == "test-browser/1.0"
    assert row["referrer"] == f"{intake.base_url}".rstrip("/") + OPEN_URL
    assert row["permalink"] == f"{intake.base_url}".rstrip("/") + OPEN_URL
    assert row["honeypot"] == 0
    assert row["created_at"]


def test_json_post_answers_202_with_the_id_and_a_private_removal_link(intake, tmp_path):
    response = intake.post("/api/comments", json=valid_comment(), headers=JSON)

    assert response.status_code == 202
    answer = response.json()
    [row] = inbox_rows(tmp_path)
    assert answer["id"] == row["id"]
    token = parse_qs(urlsplit(answer["removal_url"]).query)["token"][0]
    assert urlsplit(answer["removal_url"]).path == f"/api/comments/{row['id']}/remove"
    # Only the hash is kept: a copy of the inbox cannot remove anyone's comment.
    assert row["removal_token_hash"] == hash_token(token)
    assert token not in json.dumps([dict(r) for r in inbox_rows(tmp_path)])


def test_fetch_with_form_data_gets_json_too(intake, tmp_path):
    multipart = {name: (None, value) for name, value in valid_comment().items()}
    response = intake.post("/api/comments", files=multipart, headers=JSON)

    assert response.status_code == 202
    assert [row["id"] for row in inbox_rows(tmp_path)] == [response.json()["id"]]


def test_a_reply_names_its_published_parent(intake, tmp_path):
    response = intake.post("/api/comments", json=valid_comment(replyto="c002"))

    assert response.status_code == 202
    assert inbox_rows(tmp_path)[0]["parent_id"] == "c002"


def test_filled_honeypot_looks_like_success_but_is_marked(intake, tmp_path):
    response = intake.post("/api/comments", data=valid_comment(subject="Cheap watches"))

    assert response.status_code == 303
    assert response.headers["location"] == f"{OPEN_URL}#comment-pending"
    assert inbox_rows(tmp_path)[0]["honeypot"] == 1


def test_the_receipt_shows_the_removal_link_once_after_a_form_post(intake, tmp_path):
    intake.post("/api/comments", data=valid_comment())
    [row] = inbox_rows(tmp_path)

    receipt = intake.get("/api/comments/receipt")
    again = intake.get("/api/comments/receipt")

    assert receipt.status_code == 200
    link = BeautifulSoup(receipt.text, "html.parser").find(
        "a", href=lambda href: href and "/remove?token=" in href
    )
    token = parse_qs(urlsplit(link["href"]).query)["token"][0]
    assert hash_token(token) == row["removal_token_hash"]
    assert again.status_code == 404


def test_removal_link_confirms_then_queues_the_removal(intake, tmp_path):
    removal_url = intake.post("/api/comments", json=valid_comment()).json()["removal_url"]

    page = BeautifulSoup(intake.get(removal_url).text, "html.parser")
    form = page.find("form")
    assert form["method"] == "post"
    assert inbox_rows(tmp_path)[0]["removal_requested_at"] is None  # a GET removes nothing

    response = intake.post(
        form["action"], data={"token": form.find("input", {"name": "token"})["value"]}
    )
    assert response.status_code == 200
    assert "will be removed" in response.text
    [row] = inbox_rows(tmp_path)
    assert row["removal_requested_at"]
    assert [d["action"] for d in inbox_rows(tmp_path, "decisions")] == ["removal-requested"]


def test_removal_with_a_wrong_token_or_unknown_id_is_refused(intake, tmp_path):
    comment_id = intake.post("/api/comments", json=valid_comment()).json()["id"]

    wrong = intake.post(f"/api/comments/{comment_id}/remove", json={"token": "guess"})
    unknown = intake.post("/api/comments/19990101000000-abcdef12/remove", json={"token": "x"})
    empty = intake.post(f"/api/comments/{comment_id}/remove", json={})

    assert (wrong.status_code, unknown.status_code, empty.status_code) == (403, 404, 422)
    assert inbox_rows(tmp_path)[0]["removal_requested_at"] is None


BAD_COMMENTS = [
    pytest.param(valid_comment(post="no-such-post"), 404, "post", id="unknown post"),
    pytest.param(valid_comment(replyto="c999"), 404, "replyto", id="unknown parent"),
    pytest.param(valid_comment(replyto="c100"), 404, "replyto", id="parent on another post"),
    pytest.param(valid_comment(post=CLOSED_POST), 403, "post", id="comments closed"),
    pytest.param(valid_comment(post=""), 422, "post", id="no post"),
    pytest.param(valid_comment(post="../etc"), 422, "post", id="post not a slug"),
    pytest.param(valid_comment(author=""), 422, "author", id="no name"),
    pytest.param(valid_comment(author="   "), 422, "author", id="blank name"),
    pytest.param(valid_comment(author="x" * 101), 422, "author", id="name of 101"),
    pytest.param(valid_comment(author="Wren\x00"), 422, "author", id="NUL in name"),
    pytest.param(valid_comment(email=""), 422, "email", id="no email"),
    pytest.param(valid_comment(email="wren"), 422, "email", id="email without @"),
    pytest.param(valid_comment(email="wren@localhost"), 422, "email", id="email without domain"),
    pytest.param(valid_comment(email="a b@example.org"), 422, "email", id="email with space"),
    pytest.param(valid_comment(website="javascript:alert(1)"), 422, "website", id="js url"),
    pytest.param(valid_comment(website="ftp://example.org/"), 422, "website", id="ftp url"),
    pytest.param(valid_comment(website="wren.example.net"), 422, "website", id="no scheme"),
    pytest.param(
        valid_comment(website="https://example.org/" + "a" * 181), 422, "website", id="url of 201"
    ),
    pytest.param(
        valid_comment(website='http://x.com/"onmouseover="alert(1)'),
        422,
        "website",
        id="url with a quote",
    ),
    pytest.param(valid_comment(website="https://x.example/<b>"), 422, "website", id="url with <"),
    pytest.param(valid_comment(comment=""), 422, "comment", id="empty comment"),
    pytest.param(valid_comment(comment=" \n\t "), 422, "comment", id="blank comment"),
    pytest.param(valid_comment(comment="x" * 10_001), 422, "comment", id="comment of 10001"),
]


@pytest.mark.parametrize(("fields", "status", "field"), BAD_COMMENTS)
def test_bad_comment_fields_get_their_status_and_nothing_is_stored(
    intake, tmp_path, fields, status, field
):
    response = intake.post("/api/comments", json=fields)

    assert response.status_code == status
    assert response.json()["field"] == field
    assert response.json()["error"]
    assert inbox_rows(tmp_path) == []


def test_a_refused_website_says_what_is_wrong_with_it(intake):
    website = 'http://x.com/"onmouseover="alert(1)'
    response = intake.post("/api/comments", json=valid_comment(website=website))
    assert response.status_code == 422
    # The reason is the comment file's own website rule, word for word.
    assert response.json() == {
        "error": f"The website address {website_problem(website)}.",
        "field": "website",
    }
    assert "quotes" in response.json()["error"]


def test_the_limits_themselves_are_accepted(intake, tmp_path):
    fields = valid_comment(
        author="x" * 100,
        website="https://example.org/" + "a" * 180,
        comment="y" * 10_000,
        email="first.last+blog@mail.example.co.uk",
    )
    response = intake.post("/api/comments", json=fields)

    assert response.status_code == 202, response.text
    assert len(inbox_rows(tmp_path)[0]["body"]) == 10_000


def test_a_refused_form_post_gets_a_page_with_the_reason_and_the_way_back(intake):
    response = intake.post("/api/comments", data=valid_comment(email="not-an-address"))

    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert "not a valid email address" in page.find(role="alert").get_text()
    assert page.find("a", href=OPEN_URL)


def test_a_body_over_64_kib_gets_413(intake, tmp_path):
    response = intake.post("/api/comments", data=valid_comment(comment="z" * (65 * 1024)))

    assert response.status_code == 413
    assert inbox_rows(tmp_path) == []


def test_a_chunked_body_over_64_kib_gets_413(intake, tmp_path):
    def chunks():
        yield b"post=texting-my-therapist&comment="
        for _ in range(70):
            yield b"z" * 1024

    response = intake.post(
        "/api/comments",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"post=texting-my-therapist"),
        ("application/xml", b"<comment/>"),
        (None, b"post=texting-my-therapist"),
    ],
)
def test_other_content_types_get_415(intake, tmp_path, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    response = intake.post("/api/comments", content=body, headers=headers)

    assert response.status_code == 415
    assert inbox_rows(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"post": "texting-my-therapist", "author": 7}', 422),
        (b"\xff\xfe", 400),
    ],
)
def test_broken_json_gets_a_clear_4xx(intake, body, status):
    response = intake.post(
        "/api/comments", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"]


def test_broken_form_encoding_gets_400(intake):
    response = intake.post(
        "/api/comments",
        content=b"post=texting-my-therapist&author=%ff%fe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_a_file_upload_is_refused(intake, tmp_path):
    response = intake.post(
        "/api/comments", data=valid_comment(), files={"photo": ("me.jpg", b"\xff\xd8")}
    )
    assert response.status_code == 400
    assert inbox_rows(tmp_path) == []


def test_comment_flood_from_one_address_gets_429_with_retry_after(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=(5, 600)) as url:
        answers = [
            httpx.post(f"{url}/api/comments", json=valid_comment(comment=f"Note {n}"))
            for n in range(6)
        ]

    assert [answer.status_code for answer in answers] == [202] * 5 + [429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 600
    assert sorted(row["body"] for row in inbox_rows(tmp_path)) == [f"Note {n}" for n in range(5)]


def test_restarting_the_intake_does_not_clear_its_rate_limits(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=(2, 600), like_rate_limit=(1, 60)) as url:
        posted = [
            httpx.post(f"{url}/api/comments", json=valid_comment(comment=f"Note {n}"))
            for n in range(2)
        ]
        liked = httpx.post(f"{url}/api/likes", json={"post": OPEN_POST, "comment": "c001"})
    assert [answer.status_code for answer in posted] == [202, 202] and liked.status_code == 200

    # A restart (a deploy, a crash, the server's reboot) starts from what the inbox kept.
    with running_intake(tmp_path, comment_rate_limit=(2, 600), like_rate_limit=(1, 60)) as url:
        third = httpx.post(f"{url}/api/comments", json=valid_comment(comment="Note 2"))
        again = httpx.post(f"{url}/api/likes", json={"post": OPEN_POST, "comment": "c002"})
    assert third.status_code == 429 and "about 10 minutes" in third.json()["error"]
    assert again.status_code == 429
    assert sorted(row["body"] for row in inbox_rows(tmp_path)) == ["Note 0", "Note 1"]

    # What the inbox keeps for the limits names no address.
    kept = [(row["kind"], row["key_digest"]) for row in inbox_rows(tmp_path, "rate_events")]
    assert sorted(kind for kind, _ in kept) == ["comment-likes", "comments", "comments", "likes"]
    assert not any("127.0.0.1" in digest for _, digest in kept)


def test_refused_comments_do_not_use_up_the_rate_limit(tmp_path):
    with running_intake(tmp_path, comment_rate_limit=(2, 600)) as url:
        for _ in range(5):
            httpx.post(f"{url}/api/comments", json=valid_comment(email="typo"))
        answer = httpx.post(f"{url}/api/comments", json=valid_comment())

    assert answer.status_code == 202


def test_like_counts_once_per_reader_and_adds_to_the_published_count(intake, tmp_path):
    first = intake.post("/api/likes", json={"post": OPEN_POST, "comment": "c001"})
    second = intake.post("/api/likes", json={"post": OPEN_POST, "comment": "c001"})
    other = intake.post(
        "/api/likes",
        json={"post": OPEN_POST, "comment": "c001"},
        headers={"User-Agent": "another-browser/2.0"},
    )

    assert first.status_code == 200
    assert (first.json()["likes"], first.json()["label"]) == (3, "Liked by 3 people")
    assert (second.json()["likes"], second.json()["added"]) == (3, False)
    assert other.json()["likes"] == 4
    live = intake.get("/api/likes", params={"post": OPEN_POST})
    assert live.json() == {"post": OPEN_POST, "likes": {"c001": 4, "c002": 0}}
    assert live.headers["cache-control"] == "no-store"
    rows = inbox_rows(tmp_path, "likes")
    assert len(rows) == 2
    assert all("127.0.0.1" not in row["reader_hash"] for row in rows)


def test_a_first_like_reads_one_person(intake):
    answer = intake.post("/api/likes", json={"post": OPEN_POST, "comment": "c002"}).json()
    assert answer["label"] == "Liked by 1 person"


def test_already_folded_likes_are_not_counted_twice(intake, tmp_path):
    intake.post("/api/likes", json={"post": OPEN_POST, "comment": "c002"})
    # As `invoke moderate` does: the file now carries that like, and comments.json says so.
    with sqlite3.connect(tmp_path / "var" / "inbox.sqlite3") as connection:
        connection.execute(
            "INSERT INTO folded_likes (comment_id, post_slug, count) VALUES ('c002', ?, 1)",
            (OPEN_POST,),
        )
    targets = json.loads(json.dumps(TARGETS))
    targets["posts"][OPEN_POST]["likes"]["c002"] = 1
    write_targets(tmp_path / "output", targets)

    live = intake.get("/api/likes", params={"post": OPEN_POST}).json()
    assert live["likes"]["c002"] == 1


def test_the_no_js_like_form_returns_to_the_comment(intake):
    response = intake.post("/api/likes", data={"post": OPEN_POST, "comment": "c001"})

    assert response.status_code == 303
    assert response.headers["location"] == f"{OPEN_URL}#comment-c001"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"post": OPEN_POST, "comment": "c999"}, 404),
        ({"post": OPEN_POST, "comment": "c100"}, 404),
        ({"post": "no-such-post", "comment": "c001"}, 404),
        ({"post": OPEN_POST}, 422),
    ],
)
def test_bad_likes_are_refused(intake, tmp_path, fields, status):
    assert intake.post("/api/likes", json=fields).status_code == status
    assert inbox_rows(tmp_path, "likes") == []


def test_live_counts_of_an_unknown_post_are_404(intake):
    assert intake.get("/api/likes", params={"post": "no-such-post"}).status_code == 404
    assert intake.get("/api/likes").status_code == 422


def test_like_flood_gets_429(tmp_path):
    with running_intake(tmp_path, like_rate_limit=(3, 60)) as url:
        answers = [
            httpx.post(f"{url}/api/likes", json={"post": OPEN_POST, "comment": "c001"})
            for _ in range(4)
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_a_rebuilt_site_is_picked_up_without_a_restart(intake, tmp_path):
    targets = json.loads(json.dumps(TARGETS))
    targets["posts"]["a-new-post"] = {
        "url": "/2018/02/a-new-post/",
        "title": "A new post",
        "open": True,
        "modified": "2018-02-01T09:00:00+00:00",
        "comments": [],
        "likes": {},
    }
    write_targets(tmp_path / "output", targets)

    response = intake.post("/api/comments", data=valid_comment(post="a-new-post"))
    assert response.headers["location"] == "/2018/02/a-new-post/#comment-pending"


def test_an_unbuilt_site_gets_503_not_500(tmp_path):
    with running_intake(tmp_path) as url:
        (tmp_path / "output" / "comments.json").unlink()
        answer = httpx.post(f"{url}/api/comments", json=valid_comment())
    assert answer.status_code == 503
    assert "try again" in answer.json()["error"]


def test_an_unusable_inbox_gets_a_clean_503_not_a_traceback(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    with running_intake(tmp_path, inbox_path=blocked / "inbox.sqlite3") as url:
        answer = httpx.post(f"{url}/api/comments", data=valid_comment())
    assert answer.status_code == 503
    assert "Traceback" not in answer.text
    assert "nothing was saved" in answer.text


def test_cors_allows_only_the_configured_origin(tmp_path):
    origin = "https://between-sessions.example.org"
    with running_intake(tmp_path, allowed_origin=origin) as url:
        preflight = httpx.options(
            f"{url}/api/comments",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        stranger = httpx.options(
            f"{url}/api/comments",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert stranger.status_code == 400
