"""Readers in a real browser against `invoke serve`, with mail going to a real SMTP server
on loopback (issue 14): a comment whose words need care shows the support resources at
once, with and without JavaScript, and mails the author at once; an ordinary comment
shows none and reaches the author in a digest; `invoke moderate` never sends a needs-care
comment to Akismet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.akismet_standin import AkismetStandIn
from tests.support.intake import copy_project, invoke_serve
from tests.support.moderation import invoke_moderate
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
AUTHOR = "maren.e2e@example.org"
HELPLINE = "Harbour Line"
CRISIS_WITH_SCRIPT = "Reading this at 3am. I keep thinking about ending my life."
CRISIS_WITHOUT_SCRIPT = "Since she left I have been cutting myself again."
ORDINARY_WITH_SCRIPT = "I killed it at the interview, and your post about nerves helped."
ORDINARY_WITHOUT_SCRIPT = "I killed it at the interview too; the waiting room bit was me."


def environment(smtp: SmtpServer) -> dict[str, str]:
    drop = ("COMMENT_INTAKE_INBOX", "PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL")
    env = {key: value for key, value in os.environ.items() if key not in drop}
    return {**env, **smtp.environment(), "BETWEEN_SESSIONS_AUTHOR_EMAIL": AUTHOR}


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, SmtpServer]]:
    """A tmp copy of the project served by `invoke serve`, mail on; (root, URL, mailbox)."""
    root = copy_project(tmp_path_factory.mktemp("care"))
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write(
            '\nCOMMENT_INTAKE = {**COMMENT_INTAKE, "COMMENT_RATE_LIMIT": (50, 600)}\n'
            'CARE = {"RESOURCES": [*CARE["RESOURCES"][:1],'
            f' {{"name": "{HELPLINE}", "phone": "0800 555 0199"}}]}}\n'
        )
    smtp = SmtpServer(tmp_path_factory.mktemp("smtp"))
    with smtp, invoke_serve(root, environment(smtp)) as url:
        yield root, url, smtp


def post(page, text: str, author: str = "Wren", email: str = "wren.e2e@example.org") -> None:
    form = page.locator("#commentform")
    form.locator("input[name=author]").fill(author)
    form.locator("input[name=email]").fill(email)
    form.locator("textarea[name=comment]").fill(text)
    form.get_by_role("button", name="Post Comment").click()


def test_with_javascript_the_resources_show_above_the_notice(browser, blog):
    _, url, _ = blog
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + POST_URL)
    post(page, CRISIS_WITH_SCRIPT)
    care = page.locator("#respond .comment-care")
    care.wait_for()
    notice = page.locator("#respond .comment-received")
    notice.wait_for()
    assert HELPLINE in care.inner_text()
    assert "emergency number" in care.inner_text()
    assert page.locator('#respond .comment-care a[href="tel:08005550199"]').count() == 1
    assert care.bounding_box()["y"] < notice.bounding_box()["y"]
    assert "awaiting moderation" in notice.inner_text()
    # Ordinary words on the same page, later: the note goes, the notice stays.
    post(page, ORDINARY_WITH_SCRIPT)
    page.wait_for_function("!document.querySelector('#respond .comment-care')")
    assert "awaiting moderation" in notice.inner_text()
    # A ticked reply box is answered too: this blog has no address for links in mail.
    page.get_by_label("Email me when someone replies to my comment").check()
    post(page, "Thank you; I would like to hear what others say.")
    page.get_by_text("Reply emails are not set up on this blog").wait_for()
    context.close()


def test_without_javascript_the_page_after_posting_shows_them_at_once(browser, blog):
    _, url, _ = blog
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(url + POST_URL)
    post(page, CRISIS_WITHOUT_SCRIPT)
    page.wait_for_url("**/api/comments/receipt?**")
    care = page.locator(".comment-care")
    assert care.is_visible()
    assert HELPLINE in care.inner_text()
    assert "will appear once it has been approved" in page.locator("main").inner_text()
    assert page.locator('a[href*="/remove?token="]').count() == 1

    page.goto(url + POST_URL)
    post(page, ORDINARY_WITHOUT_SCRIPT)
    page.wait_for_url(f"**{POST_URL}#comment-pending")
    assert page.locator(".comment-care").count() == 0
    assert page.locator("#comment-pending").is_visible()
    context.close()


def test_the_author_is_mailed_and_akismet_never_sees_the_words_that_need_care(blog):
    # Reads the mail the two tests above caused (pytest keeps a module's order).
    root, _, smtp = blog
    care_mails = [
        received
        for received in smtp.wait_for(3)
        if received.message["Subject"].startswith("A comment that needs care")
    ]
    assert sorted(
        CRISIS_WITH_SCRIPT in m.text or CRISIS_WITHOUT_SCRIPT in m.text for m in care_mails
    ) == [True, True]
    assert all(m.recipients == [AUTHOR] and "wren.e2e@example.org" in m.text for m in care_mails)
    digests = [m for m in smtp.messages if "waiting for you" in m.message["Subject"]]
    assert len(digests) == 1 and ORDINARY_WITH_SCRIPT[:40] in digests[0].text

    with AkismetStandIn() as standin:
        printed = invoke_moderate(root, {**environment(smtp), **standin.environment()})
        asked = [call.form["comment_content"] for call in standin.calls("comment-check")]
    assert ORDINARY_WITH_SCRIPT in asked and ORDINARY_WITHOUT_SCRIPT in asked
    assert CRISIS_WITH_SCRIPT not in asked and CRISIS_WITHOUT_SCRIPT not in asked
    assert "Mail is off" not in printed
