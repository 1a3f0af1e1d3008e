"""A reader in a real browser against `invoke serve`: comments, replies and likes reach the
inbox, with JavaScript and without it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.intake import copy_project, invoke_serve

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
POST_SLUG = "texting-my-therapist"
# Two published comments of our own, so the test does not depend on the sample ones:
# likes from the JavaScript and the no-JavaScript reader land on different comments.
FIXTURE_COMMENTS = {
    "bt-juniper": ("Juniper", 2, "Reading this made the gap between sessions feel less wide."),
    "bt-ash": (
        "Ash",
        0,
        "I keep my texts to logistics now, and that has helped more than I thought.",
    ),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`invoke serve` on a free port in a tmp copy of the project; yields (URL, inbox path)."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    comments = root / "content" / "comments" / POST_SLUG
    comments.mkdir(parents=True, exist_ok=True)
    for number, (comment_id, (author, likes, text)) in enumerate(FIXTURE_COMMENTS.items()):
        (comments / f"{comment_id}.md").write_text(
            f"author: {author}\ndate: 2016-03-1{5 + number}T15:00:00+00:00\n"
            f"likes: {likes}\n\n{text}\n",
            encoding="utf-8",
        )
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        # Several tests post from the same loopback address; the limit itself is tested over HTTP.
        settings.write('\nCOMMENT_INTAKE = {**COMMENT_INTAKE, "COMMENT_RATE_LIMIT": (50, 600)}\n')
    env = {key: value for key, value in os.environ.items() if key != "COMMENT_INTAKE_INBOX"}
    with invoke_serve(root, env, timeout=180) as url:
        yield url, root / "var" / "inbox.sqlite3"


def inbox_comment(inbox: Path, body: str) -> sqlite3.Row | None:
    with sqlite3.connect(inbox) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute("SELECT * FROM comments WHERE body = ?", (body,)).fetchone()


def open_post(browser, site, javascript: bool):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(site[0] + POST_URL)
    return context, page


def fill(form, author: str, text: str, email: str = "reader@example.org") -> None:
    form.locator("input[name=author]").fill(author)
    form.locator("input[name=email]").fill(email)
    form.locator("textarea[name=comment]").fill(text)


def reply_form(page, comment_id: str):
    """The visible comment form that replies to `comment_id`, after its Reply link was used."""
    page.locator(f'#comment-{comment_id} a.comment-reply-link[data-replyto="{comment_id}"]').click()
    found = page.evaluate(
        """(id) => {
            const form = [...document.querySelectorAll("form.comment-form, form#commentform")]
              .find((f) => f.elements.replyto && f.elements.replyto.value === id
                           && f.getClientRects().length > 0);
            if (form) form.setAttribute("data-test-reply", id);
            return Boolean(form);
        }""",
        comment_id,
    )
    assert found, f"no visible reply form for {comment_id} after clicking Reply"
    return page.locator(f'form[data-test-reply="{comment_id}"]')


def reply_form_without_js(page, comment_id: str):
    page.locator(f'#comment-{comment_id} a.comment-reply-link[data-replyto="{comment_id}"]').click()
    form = page.locator(f"#reply-{comment_id} form")
    assert form.is_visible()
    return form


# --- with JavaScript ---


def test_js_comment_shows_the_notice_in_place_and_waits_in_the_inbox(browser, site):
    context, page = open_post(browser, site, javascript=True)
    text = "I tried the one-text-a-week rule this month. It felt strict, then it felt kind."
    form = page.locator("#commentform")
    fill(form, "Rowan", text)
    form.get_by_role("button", name="Post Comment").click()

    notice = page.locator("#respond .comment-received")
    notice.wait_for()
    assert "awaiting moderation" in notice.inner_text()
    assert "/remove?token=" in notice.locator("a").get_attribute("href")
    assert page.url.endswith(POST_URL)  # no page load: she stays where she was
    row = inbox_comment(site[1], text)
    assert row is not None
    assert (row["status"], row["author"], row["post_slug"]) == ("pending", "Rowan", POST_SLUG)
    assert row["parent_id"] is None
    context.close()


def test_js_failed_post_keeps_what_she_typed_and_says_why(browser, site):
    context, page = open_post(browser, site, javascript=True)
    text = "A long thought I would hate to lose to a typo in my address."
    form = page.locator("#commentform")
    fill(form, "Rowan", text, email="rowan@localhost")
    form.get_by_role("button", name="Post Comment").click()

    error = page.locator("#respond .comment-error")
    error.wait_for()
    assert "not a valid email address" in error.inner_text()
    assert form.locator("textarea[name=comment]").input_value() == text
    assert inbox_comment(site[1], text) is None
    context.close()


def test_js_reply_names_its_parent(browser, site):
    context, page = open_post(browser, site, javascript=True)
    text = "Juniper, yes: the wide gap is exactly what I could not name."
    form = reply_form(page, "bt-juniper")
    fill(form, "Sage", text)
    form.get_by_role("button", name="Post Comment").click()

    page.locator(".comment-received").first.wait_for()
    row = inbox_comment(site[1], text)
    assert row is not None
    assert row["parent_id"] == "bt-juniper"
    context.close()


def test_js_like_raises_the_count_once(browser, site):
    context, page = open_post(browser, site, javascript=True)
    likes = page.locator('.comment-likes[data-comment-id="bt-juniper"]')
    assert likes.inner_text() == "Liked by 2 people"
    button = page.locator("#comment-bt-juniper form.like-form button")

    # Issue 15: after her own like the count reads as WordPress words it, "you and N others".
    button.click()
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"bt-juniper\"]')"
        ".textContent === 'Liked by you and 2 others'"
    )
    button.click()
    page.wait_for_timeout(500)
    assert likes.inner_text() == "Liked by you and 2 others"

    page.reload()  # the count is the live one after a reload too, before any rebuild
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"bt-juniper\"]')"
        ".textContent === 'Liked by you and 2 others'"
    )
    context.close()

    # Another reader sees the same live count, 3, in the plain words.
    stranger = browser.new_context()
    page = stranger.new_page()
    page.goto(site[0] + POST_URL)
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"bt-juniper\"]')"
        ".textContent === 'Liked by 3 people'"
    )
    stranger.close()


# --- without JavaScript ---


def test_no_js_comment_redirects_to_the_notice_and_waits_in_the_inbox(browser, site):
    context, page = open_post(browser, site, javascript=False)
    text = "Without any scripts at all, I still wanted to say: thank you for this one."
    form = page.locator("#commentform")
    fill(form, "Linden", text)
    form.get_by_role("button", name="Post Comment").click()

    page.wait_for_url(f"**{POST_URL}#comment-pending")
    assert page.locator("#comment-pending").is_visible()
    assert "awaiting moderation" in page.locator("#comment-pending").inner_text()
    row = inbox_comment(site[1], text)
    assert row is not None
    assert row["status"] == "pending"

    # Her private removal link, once, from the notice's link to the intake's receipt page.
    page.locator("#comment-pending").get_by_role("link", name="private link").click()
    page.wait_for_url("**/api/comments/receipt")
    assert (
        "/remove?token=" in page.get_by_role("link").filter(has_text="/remove?token=").inner_text()
    )
    page.goto(site[0] + "/api/comments/receipt")
    assert "shown only once" in page.content()
    context.close()


def test_no_js_reply_names_its_parent(browser, site):
    context, page = open_post(browser, site, javascript=False)
    text = "Ash, logistics only: I am going to try that and see how it sits."
    form = reply_form_without_js(page, "bt-ash")
    fill(form, "Birch", text)
    form.get_by_role("button", name="Post Comment").click()

    page.wait_for_url(f"**{POST_URL}#comment-pending")
    row = inbox_comment(site[1], text)
    assert row is not None
    assert row["parent_id"] == "bt-ash"
    context.close()


def test_no_js_like_raises_the_count_once(browser, site):
    context, page = open_post(browser, site, javascript=False)
    likes = page.locator('.comment-likes[data-comment-id="bt-ash"]')
    assert likes.inner_text() == ""
    page.locator("#comment-bt-ash form.like-form button").click()

    page.wait_for_url(f"**{POST_URL}#comment-bt-ash")
    assert likes.inner_text() == "Liked by 1 person"
    page.locator("#comment-bt-ash form.like-form button").click()
    page.wait_for_url(f"**{POST_URL}#comment-bt-ash")
    assert likes.inner_text() == "Liked by 1 person"
    context.close()
