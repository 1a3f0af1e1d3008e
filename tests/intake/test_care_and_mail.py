"""The intake tells the people who are waiting (issue 14), over real HTTP and a real SMTP
server on loopback: a reader whose words need care is shown support resources at once,
the author is mailed at once about her comment, and gets a digest of the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from moderation.intake.app import create_app
from moderation.settings import load_settings
from tests.support.intake import OPEN_POST, OPEN_URL, running, valid_comment, write_targets
from tests.support.smtp import SmtpServer

AUTHOR = "maren.author@example.org"
READER = "wren.reader@example.org"
HELPLINE = {"name": "Harbour Line", "phone": "0800 123 4567", "url": "https://harbour.example"}
# Phrases the pipeline's crisis-language rule covers, and ordinary words that must not match.
CRISIS = [
    "Some nights lately I think about suicide.",
    "I have been hurting myself again since the break.",
    "Honestly I just want to die some days.",
]
ORDINARY = ["I killed it at the interview, thanks to what you wrote about nerves."]


def settings_file(folder: Path) -> Path:
    write_targets(folder / "output")
    path = folder / "pelicanconf.py"
    path.write_text(
        "COMMENT_INTAKE = {'COMMENT_RATE_LIMIT': None}\n"
        "NOTIFY = {'FROM': 'Between Sessions <blog@example.org>', 'DIGEST_MINUTES': 60}\n"
        "CARE = {'RESOURCES': [\n"
        "    {'name': 'If you are in danger now, call your local emergency number.'},\n"
        f"    {HELPLINE!r},\n"
        "    {'name': 'NATIONAL HELPLINE: set its name, phone and url here'},\n"
        "]}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def intake(tmp_path: Path, mailbox: SmtpServer) -> Iterator[httpx.Client]:
    """An intake with mail on, the author's address from the environment's override."""
    settings = load_settings(
        settings_file(tmp_path), environ={"BETWEEN_SESSIONS_AUTHOR_EMAIL": AUTHOR}
    )
    with running(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        yield client


def care_resources(soup: BeautifulSoup) -> list[str]:
    return [item.get_text(" ", strip=True) for item in soup.select(".comment-care li")]


@pytest.mark.parametrize("text", CRISIS)
def test_words_that_need_care_bring_the_resources_in_the_json_answer(intake, text):
    answer = intake.post(
        "/api/comments", data=valid_comment(comment=text), headers={"Accept": "application/json"}
    )
    assert answer.status_code == 202
    care = answer.json()["care"]
    assert care["resources"][1] == HELPLINE
    # The sample's unset placeholder is never shown to a reader.
    assert [entry["name"] for entry in care["resources"]] == [
        "If you are in danger now, call your local emergency number.",
        "Harbour Line",
    ]
    assert answer.json()["status"] == "pending"


@pytest.mark.parametrize("text", CRISIS)
def test_without_javascript_the_page_after_the_redirect_shows_them_above_the_notice(intake, text):
    answer = intake.post("/api/comments", data=valid_comment(comment=text))
    assert answer.status_code == 303
    page = intake.get(answer.headers["location"])
    soup = BeautifulSoup(page.text, "html.parser")
    assert care_resources(soup)[1] == "Harbour Line 0800 123 4567 https://harbour.example"
    assert soup.select_one('.comment-care a[href="tel:08001234567"]') is not None
    text_after_care = soup.select_one(".comment-care").find_next_sibling("p").get_text()
    assert "will appear once it has been approved" in text_after_care
    # The removal link is there too, below, as after any comment.
    assert soup.select_one('a[href*="/remove?token="]') is not None
    assert soup.select_one(f'a[href="{OPEN_URL}"]') is not None


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_bring_no_resources(intake, text):
    json_answer = intake.post(
        "/api/comments", data=valid_comment(comment=text), headers={"Accept": "application/json"}
    )
    assert "care" not in json_answer.json()
    form_answer = intake.post("/api/comments", data=valid_comment(comment=text))
    assert form_answer.headers["location"] == f"{OPEN_URL}#comment-pending"


def test_the_author_is_mailed_at_once_with_the_full_text_and_the_readers_address(intake, mailbox):
    text = "I read this twice.\nSome nights lately I think about suicide.\nThank you for it."
    answer = intake.post("/api/comments", data=valid_comment(comment=text, email=READER))
    assert answer.status_code == 303
    received = mailbox.wait_for(1)
    care = [r for r in received if "needs care" in r.message["Subject"]]
    assert len(care) == 1
    assert care[0].recipients == [AUTHOR]
    assert text in care[0].text
    assert READER in care[0].text
    assert "invoke moderate" in care[0].text
    assert "Texting my therapist" in care[0].message["Subject"]


def test_the_author_gets_a_digest_and_no_second_one_within_digest_minutes(intake, mailbox):
    first = "The part about the\nwaiting room\nrang true.\nAnd this fourth line stays out."
    intake.post("/api/comments", data=valid_comment(comment=first, author="Juniper"))
    [digest] = mailbox.wait_for(1)
    assert digest.recipients == [AUTHOR]
    assert digest.message["Subject"] == "1 comment waiting for you"
    body = digest.text
    assert "“Texting my therapist”, from Juniper:" in body
    assert "rang true." in body and "fourth line" not in body
    assert "To review them, run: invoke moderate" in body
    # No commenter's address in a digest: only the needs-care mail carries one.
    assert "@" not in body.replace(AUTHOR, "")
    intake.post("/api/comments", data=valid_comment(comment="A second, later thought."))
    with pytest.raises(AssertionError):
        mailbox.wait_for(2, timeout=3)


def test_with_mail_off_the_intake_takes_comments_and_queues_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("BETWEEN_SESSIONS_SMTP_URL", raising=False)
    settings = load_settings(
        settings_file(tmp_path), environ={"BETWEEN_SESSIONS_AUTHOR_EMAIL": AUTHOR}
    )
    with running(create_app(settings)) as url:
        answer = httpx.post(url + "/api/comments", data=valid_comment(comment=CRISIS[0]))
    assert answer.status_code == 303
    import sqlite3

    with sqlite3.connect(settings.inbox) as connection:
        assert connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
        assert connection.execute("SELECT post_slug FROM comments").fetchall() == [(OPEN_POST,)]


def test_a_ticked_reply_box_is_answered_with_what_becomes_of_it(tmp_path, mailbox):
    path = settings_file(tmp_path)
    with path.open("a", encoding="utf-8") as settings:
        settings.write("NOTIFY['INTAKE_URL'] = 'https://blog.example.org'\n")
    with running(create_app(load_settings(path, environ={}))) as url:
        json_answer = httpx.post(
            url + "/api/comments",
            data=valid_comment(email=READER, subscribe="1"),
            headers={"Accept": "application/json"},
        )
        form_answer = httpx.post(url + "/api/comments", data=valid_comment(subscribe="1"))
        page = httpx.get(url + form_answer.headers["location"], cookies=form_answer.cookies)
    assert "open the link in the email we just sent you" in json_answer.json()["replies"]
    assert form_answer.headers["location"].startswith("/api/comments/receipt?")
    assert (
        "open the link in the email"
        in BeautifulSoup(page.text, "html.parser").select_one(".comment-replies").get_text()
    )
    [confirmation] = [m for m in mailbox.wait_for(1) if m.recipients == [READER]]
    assert "https://blog.example.org/api/subscriptions/confirm?token=" in confirmation.text


def test_without_a_link_base_the_reply_box_says_no_mail_will_come(intake):
    # The fixture's blog has no SITEURL and no NOTIFY["INTAKE_URL"]: links cannot be made.
    answer = intake.post(
        "/api/comments", data=valid_comment(subscribe="1"), headers={"Accept": "application/json"}
    )
    assert answer.json()["replies"] == (
        "Reply emails are not set up on this blog, so none will be sent."
    )
