"""Readers who asked to hear about replies, end to end (issue 14): `invoke serve`, Chromium,
`invoke moderate` with the Akismet stand-in, and a real SMTP server on loopback.

Fern ticks the box and confirms with the button; Moss ticks it and never confirms. Ash
replies to both, Fern replies to herself. After `invoke moderate` publishes the replies,
Fern gets exactly one mail, Ash's, with a working one-click unsubscribe; Moss gets
nothing; and after Fern unsubscribes, the next reply brings her nothing.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.akismet_standin import AkismetStandIn
from tests.support.intake import copy_project, free_port, invoke_serve, post_asking_for_replies
from tests.support.moderation import inbox_comment_id, invoke_moderate
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
POST = "texting-my-therapist"
FERN = ("Fern", "fern.e2e@example.org")
MOSS = ("Moss", "moss.e2e@example.org")
ASH = ("Ash", "ash.e2e@example.org")


def environment(smtp: SmtpServer) -> dict[str, str]:
    drop = ("COMMENT_INTAKE_INBOX", "PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL")
    env = {key: value for key, value in os.environ.items() if key not in drop}
    return {**env, **smtp.environment()}


def moderate(root: Path, env: dict[str, str], standin: AkismetStandIn) -> str:
    return invoke_moderate(root, {**env, **standin.environment()})


def subscriptions_of(root: Path, email: str) -> list[tuple]:
    with sqlite3.connect(root / "var" / "inbox.sqlite3") as connection:
        return connection.execute(
            "SELECT comment_id, confirmed_at FROM subscriptions WHERE email = ?", (email,)
        ).fetchall()


def post_in_browser(browser, url: str, who: tuple[str, str], text: str) -> None:
    """A reader without JavaScript posts a top-level comment and ticks the box."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    post_asking_for_replies(page, url + POST_URL, who, text)
    assert "open the link in the email we just sent you" in page.locator("main").inner_text()
    context.close()


def reply(url: str, who: tuple[str, str], parent: str, text: str) -> None:
    answer = httpx.post(
        url + "/api/comments",
        data={"post": POST, "replyto": parent, "author": who[0], "email": who[1], "comment": text},
    )
    assert answer.status_code == 303, answer.text


def mails_to(smtp: SmtpServer, address: str) -> list:
    return [m for m in smtp.messages if m.recipients == [address]]


def test_a_published_reply_reaches_the_confirmed_subscriber_once(browser, tmp_path):
    (tmp_path / "project").mkdir()
    root = copy_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write(
            '\nCOMMENT_INTAKE = {**COMMENT_INTAKE, "COMMENT_RATE_LIMIT": (50, 600)}\n'
            f'NOTIFY = {{**NOTIFY, "INTAKE_URL": "{url}"}}\n'
            # Published as Akismet passes them; holding first comments is tested apart.
            'MODERATION = {**MODERATION, "HOLD_FIRST_COMMENT": False}\n'
        )
    smtp = SmtpServer(tmp_path)
    env = environment(smtp)
    with smtp, invoke_serve(root, env, port=port), AkismetStandIn() as standin:
        post_in_browser(browser, url, FERN, "Fern here: the evenings are the hardest part.")
        post_in_browser(browser, url, MOSS, "Moss here: I text mine about scheduling only.")
        fern = inbox_comment_id(root, "Fern here: the evenings are the hardest part.")
        moss = inbox_comment_id(root, "Moss here: I text mine about scheduling only.")
        smtp.wait_for(2)
        [confirmation] = mails_to(smtp, FERN[1])
        assert len(mails_to(smtp, MOSS[1])) == 1
        link = re.search(r"http://\S+/api/subscriptions/confirm\?token=\S+", confirmation.text)
        assert link is not None and link.group(0).startswith(url)

        # Opening the link (as a link scanner would) confirms nothing; the button does.
        context = browser.new_context()
        page = context.new_page()
        page.goto(link.group(0))
        assert subscriptions_of(root, FERN[1])[0][1] is None
        page.get_by_role("button", name="Yes, email me about replies").click()
        page.get_by_text("You will hear about replies").wait_for()
        context.close()
        assert subscriptions_of(root, FERN[1])[0][1] is not None

        moderate(root, env, standin)  # both comments are published
        reply(url, ASH, fern, "Ash to Fern: mine too, until I started walking after dinner.")
        reply(url, ASH, moss, "Ash to Moss: scheduling only is a good rule.")
        reply(url, FERN, fern, "Fern again: I forgot to say thank you for this post.")
        moderate(root, env, standin)  # the replies are published, then mailed

        smtp.wait_for(3)
        [first_reply] = [m for m in mails_to(smtp, FERN[1]) if "replied" in m.message["Subject"]]
        # Moss never confirmed: her confirmation mail is all she ever got.
        [only_mail_to_moss] = mails_to(smtp, MOSS[1])
        assert only_mail_to_moss.message["Subject"].startswith("Confirm:")
        text = first_reply.text
        assert first_reply.message["Subject"] == "Ash replied to your comment"
        assert "Ash to Fern: mine too, until I started walking after dinner." in text
        assert f"{POST_URL}#comment-" in text
        assert ASH[1] not in first_reply.message.as_string()
        assert "Fern again" not in text

        # One-click unsubscribe (RFC 8058): a mail program POSTs to the header's address.
        assert first_reply.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        target = first_reply.message["List-Unsubscribe"].strip("<>")
        assert target.startswith(url) and target in text
        answer = httpx.post(target, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200
        assert subscriptions_of(root, FERN[1]) == []

        reply(url, ASH, fern, "Ash to Fern, later: the walks are still going.")
        moderate(root, env, standin)
        assert [m for m in mails_to(smtp, FERN[1]) if "replied" in m.message["Subject"]] == [
            first_reply
        ]
