"""A reader's reply-mail subscriptions on her private pages (issue 14), over real HTTP with
a real SMTP server on loopback: the receipt after a no-JavaScript post and the removal
link's page list them, and their buttons end them. Only the link's holder sees anything,
and an address typed into the form shows nobody else's subscriptions."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from moderation.intake.app import create_app
from moderation.settings import load_settings
from tests.support.intake import free_port, running, valid_comment, write_targets
from tests.support.smtp import SmtpServer

READER = "linden.reader@example.org"


@pytest.fixture
def intake(tmp_path: Path, mailbox: SmtpServer) -> Iterator[httpx.Client]:
    """An intake with reader mail on; its client sends the intake's own Origin on POSTs,
    as a browser on its pages does."""
    write_targets(tmp_path / "output")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings_file = tmp_path / "pelicanconf.py"
    settings_file.write_text(
        "COMMENT_INTAKE = {'COMMENT_RATE_LIMIT': None}\n"
        f"NOTIFY = {{'FROM': 'Between Sessions <blog@example.org>', 'INTAKE_URL': {url!r}}}\n",
        encoding="utf-8",
    )
    settings = load_settings(settings_file, environ={})
    with running(create_app(settings, port), port), httpx.Client(base_url=url) as client:
        yield client


def inbox_rows(tmp_path: Path) -> list[tuple[str, bool]]:
    with sqlite3.connect(tmp_path / "var" / "inbox.sqlite3") as connection:
        return connection.execute(
            "SELECT comment_id, confirmed_at IS NOT NULL FROM subscriptions ORDER BY id"
        ).fetchall()


def post_json(client: httpx.Client, words: str, email: str = READER) -> dict:
    answer = client.post(
        "/api/comments",
        data=valid_comment(comment=words, email=email, subscribe="1"),
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def listed(page: str) -> list[str]:
    """The subscriptions a page lists, as the reader reads them."""
    soup = BeautifulSoup(page, "html.parser")
    return [item.get_text(" ", strip=True) for item in soup.select(".reply-subscriptions li")]


def end_forms(page: str) -> list[dict[str, str]]:
    soup = BeautifulSoup(page, "html.parser")
    return [
        {
            "action": form["action"],
            **{field["name"]: field["value"] for field in form.select("input[type=hidden]")},
        }
        for form in soup.select(".reply-subscriptions form")
    ]


def press(client: httpx.Client, form: dict[str, str]) -> httpx.Response:
    fields = {name: value for name, value in form.items() if name != "action"}
    return client.post(form["action"], data=fields, headers={"Origin": str(client.base_url)})


def confirm_from_mail(client: httpx.Client, mailbox: SmtpServer, count: int) -> None:
    mail = mailbox.wait_for(count)[-1]
    link = re.search(r"http://\S+/api/subscriptions/confirm\?token=\S+", mail.text)
    assert link is not None
    assert client.post(link.group(0), headers={"Origin": str(client.base_url)}).status_code == 200


def test_the_receipt_lists_her_new_subscription_and_its_button_ends_it(intake, tmp_path):
    posted = intake.post("/api/comments", data=valid_comment(email=READER, subscribe="1"))
    assert posted.status_code == 303
    receipt = intake.get(posted.headers["location"])
    assert receipt.status_code == 200
    [item] = listed(receipt.text)
    assert "Texting my therapist" in item and "waiting for you to press the button" in item
    assert READER not in receipt.text

    [form] = end_forms(receipt.text)
    ended = press(intake, form)
    assert ended.status_code == 200
    assert "that subscription is deleted" in ended.text
    assert listed(ended.text) == []
    assert inbox_rows(tmp_path) == []


def test_the_link_of_a_comment_confirmed_from_its_mail_lists_and_ends_them_all(
    intake, mailbox, tmp_path
):
    first = post_json(intake, "The first of my two comments here.")
    second = post_json(intake, "And the second, a day later.")
    confirm_from_mail(intake, mailbox, 1)  # one mail a day; its button confirms both
    assert [confirmed for _, confirmed in inbox_rows(tmp_path)] == [True, True]

    page = intake.get(first["removal_url"])
    assert page.status_code == 200
    items = listed(page.text)
    assert len(items) == 2
    assert all("you get an email for each" in item for item in items)

    # The second was confirmed along with the first, not from a mail of its own: its link
    # proves nothing about the address, and lists only its own.
    assert len(listed(intake.get(second["removal_url"]).text)) == 1

    # The first comment's link ends the second comment's subscription.
    forms = end_forms(page.text)
    ended = press(intake, forms[1])
    assert ended.status_code == 200
    assert len(listed(ended.text)) == 1
    assert inbox_rows(tmp_path) == [(first["id"], True)]


def test_an_address_typed_by_someone_else_shows_none_of_her_subscriptions(
    intake, mailbox, tmp_path
):
    hers = post_json(intake, "My own comment, with replies mailed to me.")
    # Someone else types her address into the form before she confirms hers: her button
    # confirms theirs along with it, and still their link shows only what they made.
    theirs = post_json(intake, "Not her, but using her address.")
    confirm_from_mail(intake, mailbox, 1)
    assert len(listed(intake.get(hers["removal_url"]).text)) == 2
    page = intake.get(theirs["removal_url"]).text
    [item] = listed(page)
    assert "Not her" not in item and "you get an email for each" in item

    # Her subscription's id, pressed with their link, ends nothing.
    her_forms = end_forms(intake.get(hers["removal_url"]).text)
    [her_form] = [
        form for form in her_forms if form["subscription"] != end_forms(page)[0]["subscription"]
    ]
    [their_form] = end_forms(page)
    answer = press(intake, {**their_form, "subscription": her_form["subscription"]})
    assert answer.status_code == 200
    assert (hers["id"], True) in inbox_rows(tmp_path)


def test_no_listing_or_ending_without_the_links_token(intake, tmp_path):
    posted = post_json(intake, "A comment whose link stays mine.")
    removal_path = posted["removal_url"].split("?")[0]
    wrong = intake.get(removal_path, params={"token": "guessed-token"})
    assert wrong.status_code == 200  # the removal page itself, with nothing listed
    assert listed(wrong.text) == [] and "reply-subscriptions" not in wrong.text

    [form] = end_forms(intake.get(posted["removal_url"]).text)
    answer = press(intake, {**form, "token": "guessed-token"})
    assert answer.status_code == 403
    assert len(inbox_rows(tmp_path)) == 1


def test_a_button_pressed_from_another_site_is_refused(intake, tmp_path):
    posted = post_json(intake, "Keep my subscription, strangers.")
    [form] = end_forms(intake.get(posted["removal_url"]).text)
    fields = {name: value for name, value in form.items() if name != "action"}
    answer = intake.post(
        form["action"], data=fields, headers={"Origin": "https://elsewhere.example"}
    )
    assert answer.status_code == 403
    assert len(inbox_rows(tmp_path)) == 1
