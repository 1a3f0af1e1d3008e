"""The whole loop, as the author and her readers live it.

A reader comments in a real browser on a page served by `invoke serve`; a spammer does too;
the author runs `invoke moderate --no-input` (Akismet being the stand-in); the rebuilt page
shows the comment. Another reader replies to it (without JavaScript); after the next
`invoke moderate` the reply sits under it. Nothing private is in content/ or output/, and
the spam is nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.akismet_standin import AkismetStandIn
from tests.support.intake import copy_project, invoke_serve
from tests.support.moderation import files_containing, inbox_comment_id, invoke_moderate

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
USER_AGENT = "Mozilla/5.0 (EndToEndReader 7.3)"
FIRST = (
    "Juniper",
    "juniper.e2e@example.org",
    "The rule about not texting after nine helped me too.",
)
REPLY = ("Ash", "ash.e2e@example.org", "Juniper, same here: the evenings are quieter now.")
SPAM = ("akismet-guaranteed-spam", "bot.e2e@example.org", "Great post, see my offers.")


def clean_environment() -> dict[str, str]:
    drop = ("COMMENT_INTAKE_INBOX", "PYTHON_AKISMET_API_KEY", "PYTHON_AKISMET_BLOG_URL")
    return {key: value for key, value in os.environ.items() if key not in drop}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A tmp copy of the project with `invoke serve` running in it; yields (root, URL)."""
    root = copy_project(tmp_path_factory.mktemp("e2e"))
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        # The loop publishes what Akismet passes; holding first comments is tested apart.
        settings.write('\nMODERATION = {**MODERATION, "HOLD_FIRST_COMMENT": False}\n')
    with invoke_serve(root, clean_environment()) as url:
        yield root, url


def moderate(root: Path, standin: AkismetStandIn) -> str:
    return invoke_moderate(root, {**clean_environment(), **standin.environment()})


def comment_id(root: Path, body: str) -> str:
    return inbox_comment_id(root, body)


def post_comment(form, who: tuple[str, str, str]) -> None:
    author, email, text = who
    form.locator("input[name=author]").fill(author)
    form.locator("input[name=email]").fill(email)
    form.locator("textarea[name=comment]").fill(text)
    form.get_by_role("button", name="Post Comment").click()


def test_comment_moderate_reply_moderate_threaded_private_and_no_spam(browser, project):
    root, url = project
    with AkismetStandIn() as standin:
        context = browser.new_context(user_agent=USER_AGENT)
        page = context.new_page()
        for who in (FIRST, SPAM):
            page.goto(url + POST_URL)
            post_comment(page.locator("#commentform"), who)
            # The intake's script shows its own notice in place of the no-JS one.
            notice = page.locator("#respond").get_by_text("awaiting moderation")
            notice.filter(visible=True).first.wait_for()
        first = comment_id(root, FIRST[2])
        spam = comment_id(root, SPAM[2])

        moderate(root, standin)

        page.goto(url + POST_URL)
        shown = page.locator(f"article#comment-{first}")
        assert FIRST[2] in shown.inner_text() and FIRST[0] in shown.inner_text()
        assert page.locator(f"#comment-{spam}").count() == 0
        context.close()

        # Another reader, without JavaScript, replies to the comment now on the page.
        plain = browser.new_context(user_agent=USER_AGENT, java_script_enabled=False)
        page = plain.new_page()
        page.goto(url + POST_URL)
        page.locator(f"#comment-{first} a.comment-reply-link").click()
        post_comment(page.locator(f"#reply-{first} form"), REPLY)
        page.wait_for_url(f"**{POST_URL}#comment-pending")
        reply = comment_id(root, REPLY[2])

        moderate(root, standin)

        page.goto(url + POST_URL)
        nested = page.locator(
            f"li:has(> article#comment-{first}) > ol.children article#comment-{reply}"
        )
        assert nested.count() == 1
        assert REPLY[2] in nested.inner_text()
        plain.close()

        checked = standin.calls("comment-check")
        assert {call.form["comment_type"] for call in checked} == {"comment", "reply"}
        assert all(call.form["user_agent"] == USER_AGENT for call in checked)

    private = (FIRST[1], REPLY[1], SPAM[1], USER_AGENT)
    assert files_containing(root / "content", private) == []
    assert files_containing(root / "output", private) == []
    # The readers' address is the loopback one, which feeds legitimately name; comment
    # files have no reason to carry any address at all.
    assert files_containing(root / "content" / "comments", ("127.0.0.1",)) == []
    assert files_containing(root / "content", (SPAM[2],)) == []
    assert files_containing(root / "output", (SPAM[2],)) == []
