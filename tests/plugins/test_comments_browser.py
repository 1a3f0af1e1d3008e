"""Replying in a real browser (Debian's Chromium): with JavaScript the form moves under the
comment, as on WordPress; without it each Reply link opens that comment's own form."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.comment_site import small_site
from tests.support.site import run_pelican

pytestmark = pytest.mark.browser

POST = "/2016/03/first-post/"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-comments")
    small_site(root / "content")
    result = run_pelican(root / "content", root / "output")
    assert result.returncode == 0, result.stdout + result.stderr
    handler = functools.partial(QuietHandler, directory=str(root / "output"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page_with_js(browser, site_url):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url + POST)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + POST)
    yield page
    context.close()


def test_reply_moves_the_form_under_the_comment_and_cancel_puts_it_back(page_with_js):
    page = page_with_js
    form = page.locator("#commentform")
    cancel = page.locator("#cancel-comment-reply-link")
    assert not cancel.is_visible()
    page.locator("#comment-r1 .comment-reply-link").click()
    assert page.locator("#comment-r1 #respond").count() == 1
    assert form.locator("input[name=replyto]").input_value() == "r1"
    assert page.locator("#reply-title").inner_text().startswith("Leave a Reply to Maren")
    assert cancel.is_visible()
    assert page.evaluate("document.activeElement.name") == "comment"
    # The comment's own no-JavaScript form stays hidden.
    assert not page.locator("#reply-r1").is_visible()
    cancel.click()
    assert page.locator("#comment-r1 #respond").count() == 0
    assert page.locator("section#comments > #respond").count() == 1
    assert form.locator("input[name=replyto]").input_value() == ""
    assert not cancel.is_visible()
    assert page.evaluate("document.activeElement.dataset.replyto") == "r1"


def test_reply_works_from_the_keyboard(page_with_js):
    page = page_with_js
    page.locator("#comment-a-early .comment-reply-link").focus()
    page.keyboard.press("Enter")
    assert page.locator("#comment-a-early #respond").count() == 1
    page.keyboard.type("Typed without a mouse.")
    assert page.locator("#commentform textarea").input_value() == "Typed without a mouse."
    page.keyboard.press("Escape")
    assert page.locator("#commentform input[name=replyto]").input_value() == ""
    assert page.evaluate("document.activeElement.dataset.replyto") == "a-early"


def test_a_shared_reply_link_opens_the_form_under_its_comment(browser, site_url):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site_url}{POST}?replyto=b-late#reply-b-late")
    assert page.locator("#comment-b-late #respond").count() == 1
    assert page.locator("#commentform input[name=replyto]").input_value() == "b-late"
    assert not page.locator("#reply-b-late").is_visible()
    context.close()


def test_without_javascript_reply_opens_a_form_that_names_the_comment(page_without_js):
    page = page_without_js
    reply_form = page.locator("#reply-r1")
    assert not reply_form.is_visible()
    page.locator("#comment-r1 .comment-reply-link").click()
    page.wait_for_url("**#reply-r1")
    assert reply_form.is_visible()
    assert "Replying to Maren" in reply_form.inner_text()
    assert reply_form.locator("input[name=replyto]").input_value() == "r1"
    reply_form.get_by_label("Name (required)").fill("Wren")
    assert reply_form.get_by_label("Comment (required)").is_editable()
    # The main form is untouched and still a top-level comment.
    assert page.locator("#commentform input[name=replyto]").input_value() == ""


def test_pending_notice_shows_only_as_the_target(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + POST)
    assert not page.locator("#comment-pending").is_visible()
    page.goto(f"{site_url}{POST}#comment-pending")
    assert page.locator("#comment-pending").is_visible()
    assert (
        page.locator("#comment-pending")
        .inner_text()
        .startswith("Your comment is awaiting moderation.")
    )
    context.close()


def test_honeypot_is_out_of_sight_and_out_of_the_tab_order(page_without_js):
    page = page_without_js
    trap = page.locator("#commentform input[name=subject]")
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] < 0
    page.locator("#commentform input[name=website]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") != "subject"
    labels = page.get_by_role("textbox").evaluate_all("els => els.map(e => e.name)")
    assert "subject" not in labels
