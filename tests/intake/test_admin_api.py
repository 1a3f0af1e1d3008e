"""The admin API (/api/admin/), on a real uvicorn: the token, the inbox as moderation reads
it, and decisions sent back, replayed and refused when stale."""

from __future__ import annotations

import base64
import logging
import subprocess
from pathlib import Path

import httpx
import pytest

from moderation import inbox
from moderation.inbox import Status
from moderation.intake.app import create_app
from tests.support.intake import INVOKE, PROJECT_ROOT, intake_settings_for, running, valid_comment

TOKEN = "Ym9va3NoZWxmLXF1aWV0LWxhbXAtb3Zlci10aGUtZGVzaw-admin"


@pytest.fixture
def admin_intake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    """An intake with the admin API on, and one comment a reader posted; yields its URL."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BETWEEN_SESSIONS_ADMIN_TOKEN", TOKEN)
    with running(create_app(intake_settings_for(tmp_path))) as url:
        answer = httpx.post(
            url + "/api/comments",
            data=valid_comment(),
            headers={"Accept": "application/json", "User-Agent": "Firefox/140.0"},
        )
        assert answer.status_code == 202
        yield url


def authorised(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def the_comment(url: str) -> dict:
    [comment] = httpx.get(url + "/api/admin/inbox", headers=authorised()).json()["comments"]
    return comment


def decide(url: str, comment: dict, status: str, expected: str = "pending") -> httpx.Response:
    change = {
        "kind": "decide",
        "id": comment["id"],
        "expected": expected,
        "status": status,
        "actor": "author",
        "reasons": ["the author's review"],
    }
    return httpx.post(url + "/api/admin/changes", json={"changes": [change]}, headers=authorised())


def test_the_api_is_absent_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("BETWEEN_SESSIONS_ADMIN_TOKEN", raising=False)
    with running(create_app(intake_settings_for(tmp_path))) as url:
        assert httpx.get(url + "/api/admin/inbox", headers=authorised()).status_code == 404
        assert httpx.post(url + "/api/admin/changes", json={}).status_code in (404, 405)


def test_no_token_or_a_wrong_one_is_refused(admin_intake: str):
    missing = httpx.get(admin_intake + "/api/admin/inbox")
    assert missing.status_code == 401
    # In JSON even to a client that did not ask for it: not the readers' "Your comment
    # was not sent" page.
    assert missing.json() == {"error": "A valid admin token is needed."}
    wrong = httpx.get(admin_intake + "/api/admin/inbox", headers=authorised(TOKEN[:-1] + "x"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    basic = {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}
    assert httpx.get(admin_intake + "/api/admin/inbox", headers=basic).status_code == 401


def test_wrong_tokens_are_limited_per_address(admin_intake: str):
    answers = [
        httpx.get(admin_intake + "/api/admin/inbox", headers=authorised(f"guess-{n}")).status_code
        for n in range(11)
    ]
    assert answers == [401] * 10 + [429]
    # Once limited, even the right token waits: guessing cannot go on around the limit.
    assert httpx.get(admin_intake + "/api/admin/inbox", headers=authorised()).status_code == 429


def test_restarting_the_intake_does_not_reset_the_wrong_token_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BETWEEN_SESSIONS_ADMIN_TOKEN", TOKEN)
    with running(create_app(intake_settings_for(tmp_path))) as url:
        for n in range(10):
            httpx.get(url + "/api/admin/inbox", headers=authorised(f"guess-{n}"))
    with running(create_app(intake_settings_for(tmp_path))) as url:
        answer = httpx.get(url + "/api/admin/inbox", headers=authorised("guess-10"))
    assert answer.status_code == 429
    assert "about 10 minutes" in answer.text


def test_the_inbox_carries_the_review_context(admin_intake: str):
    comment = the_comment(admin_intake)
    assert comment["status"] == "pending"
    assert comment["email"] == "wren@example.org"
    assert comment["user_agent"] == "Firefox/140.0"
    assert comment["ip"] == "127.0.0.1"
    assert "removal_token_hash" not in comment


def test_a_deleted_comment_comes_without_its_private_details(admin_intake: str):
    decide(admin_intake, the_comment(admin_intake), "deleted")
    comment = the_comment(admin_intake)
    assert comment["status"] == "deleted"
    assert (comment["email"], comment["ip"], comment["user_agent"]) == (None, None, None)


def test_a_replayed_decision_changes_nothing(admin_intake: str, tmp_path: Path):
    comment = the_comment(admin_intake)
    first = decide(admin_intake, comment, "approved")
    again = decide(admin_intake, comment, "approved")
    assert first.json() == {"applied": 1, "unchanged": 0}
    assert again.status_code == 200 and again.json() == {"applied": 0, "unchanged": 1}
    log = httpx.get(admin_intake + "/api/admin/inbox", headers=authorised()).json()["decisions"]
    assert [entry["action"] for entry in log] == ["approved"]
    connection = inbox.connect(tmp_path / "var" / "inbox.sqlite3")
    assert inbox.get_comment(connection, comment["id"])["status"] == Status.APPROVED


def test_a_stale_decision_is_refused_and_nothing_changes(admin_intake: str, tmp_path: Path):
    comment = the_comment(admin_intake)
    # Another run holds it after this laptop read it as pending.
    connection = inbox.connect(tmp_path / "var" / "inbox.sqlite3")
    with inbox.transaction(connection):
        inbox.decide(connection, comment["id"], Status.HELD, "rules", ["too many links"])
    answer = httpx.post(
        admin_intake + "/api/admin/changes",
        json={
            "changes": [
                {"kind": "reasons", "id": comment["id"], "reasons": ["first of two"]},
                {
                    "kind": "decide",
                    "id": comment["id"],
                    "expected": "pending",
                    "status": "spam",
                    "actor": "akismet",
                    "reasons": ["Akismet: spam"],
                },
            ]
        },
        headers=authorised(),
    )
    assert answer.status_code == 409
    assert "was pending when read and is held now" in answer.json()["error"]
    row = inbox.get_comment(connection, comment["id"])
    assert row["status"] == Status.HELD and row["reasons"] == '["too many links"]'


def test_published_and_removed_marks_are_idempotent(admin_intake: str, tmp_path: Path):
    comment = the_comment(admin_intake)
    decide(admin_intake, comment, "approved")
    marks = {"changes": [{"kind": "published", "id": comment["id"]}]}
    sent = [
        httpx.post(admin_intake + "/api/admin/changes", json=marks, headers=authorised()).json()
        for _ in range(2)
    ]
    assert sent == [{"applied": 1, "unchanged": 0}, {"applied": 0, "unchanged": 1}]
    unknown = {"changes": [{"kind": "published", "id": "no-such-comment"}]}
    answer = httpx.post(admin_intake + "/api/admin/changes", json=unknown, headers=authorised())
    assert answer.status_code == 422 and "no-such-comment" in answer.json()["error"]


def test_the_token_never_appears_in_a_log(admin_intake: str, caplog: pytest.LogCaptureFixture):
    wrong = "not-the-token-but-close-" + TOKEN[:10]
    httpx.get(admin_intake + "/api/admin/inbox", headers=authorised(wrong))
    httpx.get(admin_intake + "/api/admin/inbox")
    decide(admin_intake, the_comment(admin_intake), "approved")
    logged = "\n".join(
        record.getMessage()
        for phase in ("setup", "call")
        for record in caplog.get_records(phase)  # type: ignore[arg-type]
        if record.name.startswith("moderation")
    )
    # Each refusal is logged, even one worded as an earlier one.
    assert logged.count("admin: refused a request to /api/admin/inbox") == 2
    assert TOKEN not in logged and wrong not in logged
    assert "127.0.0.1" not in logged


def test_invoke_admin_token_prints_a_fresh_long_token():
    tokens = [
        subprocess.run(
            [str(INVOKE), "admin-token"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert tokens[0] != tokens[1]
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 32
