"""A reader without JavaScript finds her reply emails on her private pages and stops them
there (issue 14): `invoke serve`, Chromium with JavaScript off, and a real SMTP server on
loopback for the confirmation mail."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from tests.support.intake import copy_project, free_port, invoke_serve, post_asking_for_replies
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
READER = ("Hazel", "hazel.nojs@example.org")
WORDS = "The silence after I hang up the phone is the part I never expected."
STOP = "Stop emails about replies on “Texting my therapist”"


def subscriptions(root: Path) -> list[tuple[str, bool]]:
    with sqlite3.connect(root / "var" / "inbox.sqlite3") as connection:
        return connection.execute(
            "SELECT email, confirmed_at IS NOT NULL FROM subscriptions"
        ).fetchall()


def test_the_receipt_and_the_removal_page_show_her_reply_emails_and_stop_them(browser, tmp_path):
    (tmp_path / "project").mkdir()
    root = copy_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write(f'\nNOTIFY = {{**NOTIFY, "INTAKE_URL": "{url}"}}\n')
    smtp = SmtpServer(tmp_path)
    env = {key: value for key, value in os.environ.items() if key != "COMMENT_INTAKE_INBOX"}
    with smtp, invoke_serve(root, {**env, **smtp.environment()}, port=port):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        post_asking_for_replies(page, url + POST_URL, READER, WORDS)

        # The receipt: her request, not confirmed yet, with a button to drop it.
        listing = page.locator(".reply-subscriptions")
        assert "Texting my therapist" in listing.inner_text()
        assert "waiting for you to press the button" in listing.inner_text()
        assert page.get_by_role("button", name=STOP).is_visible()
        removal_link = page.locator(".removal-link a").get_attribute("href")
        assert removal_link is not None

        # She confirms from the mail, then opens her removal link another day.
        [confirmation] = smtp.wait_for(1)
        link = re.search(r"http://\S+/api/subscriptions/confirm\?token=\S+", confirmation.text)
        assert link is not None
        page.goto(link.group(0))
        page.get_by_role("button", name="Yes, email me about replies").click()
        page.get_by_text("You will hear about replies").wait_for()
        assert subscriptions(root) == [(READER[1], True)]

        page.goto(removal_link)
        assert page.get_by_role("heading", name="Remove your comment?").is_visible()
        assert "you get an email for each" in page.locator(".reply-subscriptions").inner_text()
        page.get_by_role("button", name=STOP).click()
        page.get_by_role("heading", name="No more emails about those replies").wait_for()
        assert page.get_by_role("button", name=STOP).count() == 0
        assert subscriptions(root) == []
        # Her comment itself is untouched: ending the emails removes nothing else.
        with sqlite3.connect(root / "var" / "inbox.sqlite3") as connection:
            [(requested,)] = connection.execute(
                "SELECT removal_requested_at FROM comments WHERE body = ?", (WORDS,)
            ).fetchall()
        assert requested is None
        context.close()
