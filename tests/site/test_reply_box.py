"""The form offers "Email me when someone replies" only where reply mail can be sent
(issue 14): `invoke build` with mail off leaves the box out of the page itself, so a reader
without JavaScript never ticks a promise nobody keeps; with mail on, it is there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from moderation.notify import offers_reply_mail
from moderation.settings import NotifyOptions
from tests.support.intake import INVOKE, copy_project

POST_PAGE = Path("output/2016/03/texting-my-therapist/index.html")
LABEL = "Email me when someone replies to my comment"


def build(root: Path, **env: str) -> None:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BETWEEN_")}
    done = subprocess.run(
        [str(INVOKE), "build"],
        cwd=root,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.browser
def test_invoke_build_offers_the_box_only_with_mail_on(tmp_path, browser):
    root = copy_project(tmp_path)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        build(root)
        page.goto((root / POST_PAGE).as_uri())
        form = page.locator("#commentform")
        assert form.get_by_role("button", name="Post Comment").is_visible()
        assert page.get_by_label(LABEL).count() == 0  # in no form on the page

        build(root, BETWEEN_SESSIONS_SMTP_URL="smtp://blog@127.0.0.1:2525")
        page.goto((root / POST_PAGE).as_uri())
        box = page.locator("#commentform").get_by_label(LABEL)
        assert box.is_visible() and not box.is_checked()
    finally:
        context.close()


def test_the_setting_overrides_what_the_build_machine_says():
    assert offers_reply_mail(NotifyOptions(), {}) is False
    assert offers_reply_mail(NotifyOptions(), {"BETWEEN_SESSIONS_SMTP_URL": "smtp://m:587"})
    # Going live: the laptop builds without SMTP; the server sends the mail.
    assert offers_reply_mail(NotifyOptions(reply_box=True), {}) is True
    assert (
        offers_reply_mail(NotifyOptions(reply_box=False), {"BETWEEN_SESSIONS_SMTP_URL": "x"})
        is False
    )
