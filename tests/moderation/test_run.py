"""The whole `invoke moderate` pipeline (without the rebuild) against the Akismet stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from moderation import inbox
from moderation.pipeline.console import log_lines
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import (
    FAST,
    POST,
    PRIVATE,
    add_pending,
    files_containing,
    run_pipeline,
    status_of,
)


@pytest.fixture
def standin(monkeypatch):
    with AkismetStandIn() as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def no_akismet(monkeypatch):
    for name in ("PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL", "AKISMET_API_URL"):
        monkeypatch.delenv(name, raising=False)


def published(project) -> dict[str, str]:
    return {p.stem: p.read_text() for p in project.comments_dir.glob("*/*.md")}


def test_each_verdict_lands_where_it_should(project, connection, standin):
    ham = add_pending(connection, "This made me feel less alone with the texting question.")
    reply = add_pending(connection, "Same here, for what it's worth.", parent_id=ham, author="Ash")
    spam = add_pending(connection, "great post", author="akismet-guaranteed-spam")
    blatant = add_pending(connection, "[blatant] buy", author="akismet-guaranteed-spam")
    care = add_pending(connection, "Reading this, I have been thinking about suicide again.")
    trap = add_pending(connection, "hello", honeypot=True)

    code, output = run_pipeline(project, no_input=True)

    assert code == 0, output
    assert {cid: status_of(connection, cid) for cid in (ham, reply, spam, blatant, care, trap)} == {
        ham: "approved",
        reply: "approved",
        spam: "spam",
        blatant: "discarded",
        care: "held",
        trap: "spam",
    }
    assert inbox.get_comment(connection, care)["needs_care"] == 1
    files = published(project)
    assert set(files) == {ham, reply}
    assert f"replyto: {ham}" in files[reply]
    assert files[ham].startswith("author: Juniper\ndate: ")
    assert files[ham].endswith("\n\nThis made me feel less alone with the texting question.\n")
    assert files_containing(project.comments_dir, PRIVATE) == []
    # The honeypot decided that one locally, and the needs-care one is the author's to read
    # (issue 14): Akismet was asked about neither.
    asked = {r.form["comment_content"] for r in standin.calls("comment-check")}
    assert "hello" not in asked and len(asked) == 4
    assert not any("suicide" in text for text in asked)
    assert "NEEDS CARE" in output


def test_without_a_key_local_rules_run_and_the_rest_is_held(project, connection, no_akismet):
    kind = add_pending(connection, "Thank you for this.", author="[/b]Odd [red]name")
    trap = add_pending(connection, "hello", honeypot=True)

    code, output = run_pipeline(project, no_input=True)

    assert code == 0
    assert "Akismet is not configured" in output
    assert "[/b]Odd [red]name" in output  # shown as typed, not read as markup
    assert status_of(connection, kind) == "held"
    assert status_of(connection, trap) == "spam"
    assert "Akismet is not configured" in json.loads(inbox.get_comment(connection, kind)["reasons"])
    assert published(project) == {}


def test_an_invalid_key_stops_before_changing_anything(project, connection, standin, monkeypatch):
    monkeypatch.setenv("PYTHON_AKISMET_API_KEY", "not-my-key")
    comment = add_pending(connection, "Thank you for this.")
    trap = add_pending(connection, "hello", honeypot=True)
    decisions_before = len(inbox.decision_log(connection))

    code, output = run_pipeline(project, no_input=True)

    assert code == 2
    assert "refused the API key" in output and "stopped before changing anything" in output
    assert status_of(connection, comment) == "pending" and status_of(connection, trap) == "pending"
    assert len(inbox.decision_log(connection)) == decisions_before
    assert published(project) == {}
    assert standin.calls("comment-check") == []


def test_what_killed_runs_left_is_cleared_before_akismet_is_asked(
    project, connection, standin, monkeypatch
):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    leftover = project.comments_dir / POST / f".a.md.{gone.stdout.strip()}.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("author: Half a comm", encoding="utf-8")
    monkeypatch.setenv("PYTHON_AKISMET_API_KEY", "not-my-key")
    add_pending(connection, "Thank you for this.")

    code, _ = run_pipeline(project, no_input=True)

    # Stopped at Akismet's refusal, long before publishing: the leftover is gone already.
    assert code == 2
    assert not leftover.exists()


def test_akismet_down_leaves_comments_pending_and_exits_non_zero(project, connection, standin):
    comment = add_pending(connection, "Thank you for this.")
    standin.fail_always = True

    code, output = run_pipeline(project, no_input=True)

    assert code == 1
    assert status_of(connection, comment) == "pending"
    reasons = json.loads(inbox.get_comment(connection, comment)["reasons"])
    assert any(reason.startswith("Akismet unreachable") and "503" in reason for reason in reasons)
    assert "could not be reached for 1 comment" in output
    assert len(standin.requests) == 3  # verify-key: the first try and two retries

    standin.fail_always = False
    code, _ = run_pipeline(project, no_input=True)
    assert code == 0 and status_of(connection, comment) == "approved"
    assert set(published(project)) == {comment}


def test_hold_all_sends_even_clean_comments_to_review(project, connection, standin):
    comment = add_pending(connection, "Thank you for this.")
    code, _ = run_pipeline(project, replace(FAST, hold_all=True), no_input=True)
    assert code == 0 and status_of(connection, comment) == "held"


def test_first_comment_from_a_new_email_is_held_when_asked(project, connection, standin):
    settings = replace(FAST, hold_first_comment=True)
    first = add_pending(connection, "Thank you for this.", email="new@example.org")
    run_pipeline(project, settings, no_input=True)
    assert status_of(connection, first) == "held"

    with inbox.transaction(connection):
        inbox.decide(connection, first, inbox.Status.APPROVED, "author", ["review"])
    second = add_pending(connection, "Back again.", email="NEW@example.org")
    run_pipeline(project, settings, no_input=True)
    assert status_of(connection, second) == "approved"


def test_dry_run_shows_the_decisions_and_writes_nothing(project, connection, standin):
    comment = add_pending(connection, "Thank you for this.")
    decisions_before = len(inbox.decision_log(connection))

    code, output = run_pipeline(project, dry_run=True)

    assert code == 0
    assert comment in output and "approved" in output and "Would publish 1" in output
    assert status_of(connection, comment) == "pending"
    assert len(inbox.decision_log(connection)) == decisions_before
    assert not project.comments_dir.exists()


def test_private_details_are_purged_after_the_set_days(project, connection, no_akismet):
    old = add_pending(connection, "An old comment.")
    recent = add_pending(connection, "A recent comment.")
    with inbox.transaction(connection):
        for cid in (old, recent):
            inbox.decide(connection, cid, inbox.Status.APPROVED, "author", ["review"])
        connection.execute(
            "UPDATE comments SET decided_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,)
        )

    code, output = run_pipeline(project, no_input=True)

    assert code == 0
    assert "Purged email, IP and user agent of 1 comment decided more than 30 days ago" in output
    purged, kept = inbox.get_comment(connection, old), inbox.get_comment(connection, recent)
    assert (purged["email"], purged["ip"], purged["user_agent"]) == (None, None, None)
    assert purged["purged_at"] and purged["body"] == "An old comment."
    assert (kept["email"], kept["ip"], kept["user_agent"]) == PRIVATE


def test_every_decision_is_logged_and_log_prints_it(project, connection, standin):
    ham = add_pending(connection, "Thank you for this.")
    spam = add_pending(connection, "great post", author="akismet-guaranteed-spam")
    trap = add_pending(connection, "hello", honeypot=True)
    run_pipeline(project, no_input=True)

    code, output = run_pipeline(project, log=True)

    assert code == 0
    rows = output.splitlines()
    lines = {cid: [line for line in rows if cid in line] for cid in (ham, spam, trap)}
    assert any("approved" in line and "akismet" in line for line in lines[ham])
    assert any("published" in line for line in lines[ham])
    assert any("spam" in line and "akismet" in line for line in lines[spam])
    assert any("spam" in line and "rule" in line and "honeypot" in line for line in lines[trap])
    assert POST[:10] in output


def test_removal_requests_are_carried_out(project, connection, standin):
    token = "a-secret-removal-token"
    comment = add_pending(
        connection, "Please take this down later.", removal_token_hash=inbox.hash_token(token)
    )
    run_pipeline(project, no_input=True)
    assert set(published(project)) == {comment}

    with inbox.transaction(connection):
        assert inbox.request_removal(connection, comment, token) == inbox.RemovalRequest.QUEUED
    code, output = run_pipeline(project, no_input=True)

    assert code == 0 and "carried out 1 removal request" in output
    assert published(project) == {}
    row = inbox.get_comment(connection, comment)
    assert row["status"] == "removed" and row["body"] == "" and row["email"] is None


def test_crisis_language_reaches_review_and_is_never_sent_to_akismet(project, connection, standin):
    # Issue 14: a needs-care comment is held for the author anyway, so its words and its
    # writer's details never leave the server, even when they look like spam.
    comment = add_pending(
        connection, "I keep thinking about suicide.", author="akismet-guaranteed-spam"
    )
    run_pipeline(project, no_input=True)
    row = inbox.get_comment(connection, comment)
    assert (row["status"], row["needs_care"], row["akismet_verdict"]) == ("held", 1, None)
    assert standin.calls("comment-check") == []
    assert "not sent to Akismet" in " ".join(log_lines(connection, {}))


def test_review_spam_lists_the_spam_too(project, connection, standin):
    spam = add_pending(connection, "great post", author="akismet-guaranteed-spam")
    _, plain = run_pipeline(project, no_input=True)
    _, listed = run_pipeline(project, no_input=True, review_spam=True)
    assert "Waiting for your review" not in plain
    assert spam in listed.split("Waiting for your review")[1]
