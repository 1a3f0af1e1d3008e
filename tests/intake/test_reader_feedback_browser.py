"""What a reader notices after pressing a button, in Chromium against `invoke serve`: a
refused post clears the old "awaiting moderation" notice, Like says "Liked" and is
remembered on the device, "Save my name and email" fills the form next time, the comments
are numbered with a way to jump to the form, avatars come from the site itself, and the
search box on the archives finds posts (without JavaScript the archives list them all)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.support.intake import copy_project, invoke_serve

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
POST_SLUG = "texting-my-therapist"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`invoke serve` on a free port in a tmp copy of the project; yields its URL."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    comments = root / "content" / "comments" / POST_SLUG
    (comments / "fb-alder.md").write_text(
        "author: Alder\ndate: 2016-04-20T15:00:00+00:00\nlikes: 2\n\n"
        "The part about the waiting room stayed with me all week.\n",
        encoding="utf-8",
    )
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write('\nCOMMENT_INTAKE = {**COMMENT_INTAKE, "COMMENT_RATE_LIMIT": (50, 600)}\n')
    env = {key: value for key, value in os.environ.items() if key != "COMMENT_INTAKE_INBOX"}
    with invoke_serve(root, env, timeout=180) as url:
        yield url


def open_post(browser, site: str, javascript: bool = True):
    """A fresh reader (her own browser storage) on the post; returns (context, page)."""
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(site + POST_URL)
    return context, page


def fill(form, author: str, text: str, email: str = "reader@example.org") -> None:
    form.locator("input[name=author]").fill(author)
    form.locator("input[name=email]").fill(email)
    form.locator("textarea[name=comment]").fill(text)


def test_a_refused_post_hides_the_earlier_awaiting_moderation_notice(browser, site):
    context, page = open_post(browser, site)
    form = page.locator("#commentform")
    fill(form, "Rowan", "First thought, sent and waiting.")
    form.get_by_role("button", name="Post Comment").click()
    received = page.locator("#respond .comment-received")
    received.wait_for()

    fill(form, "Rowan", "Second thought, with a broken address.", email="rowan@localhost")
    form.get_by_role("button", name="Post Comment").click()
    page.locator("#respond .comment-error").wait_for()
    assert not received.is_visible()
    assert "awaiting moderation" not in page.locator("#respond").inner_text()
    context.close()


def test_a_refused_post_hides_the_notice_the_no_js_redirect_showed(browser, site):
    """Back on the post after a form post (#comment-pending), then a refused one."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + POST_URL + "#comment-pending")
    assert page.locator("#comment-pending").is_visible()
    form = page.locator("#commentform")
    fill(form, "Rowan", "A third try, still with a broken address.", email="rowan@localhost")
    form.get_by_role("button", name="Post Comment").click()
    page.locator("#respond .comment-error").wait_for()
    assert not page.locator("#comment-pending").is_visible()
    context.close()


def test_like_says_liked_and_is_remembered_on_this_device(browser, site):
    context, page = open_post(browser, site)
    likes = page.locator('.comment-likes[data-comment-id="fb-alder"]')
    button = page.locator("#comment-fb-alder form.like-form button")
    assert likes.inner_text() == "Liked by 2 people"
    assert button.inner_text() == "Like"

    button.click()
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"fb-alder\"]')"
        ".textContent === 'Liked by you and 2 others'"
    )
    assert button.inner_text() == "Liked"
    assert button.get_attribute("aria-pressed") == "true"

    page.reload()
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"fb-alder\"]')"
        ".textContent === 'Liked by you and 2 others'"
    )
    assert button.inner_text() == "Liked"
    # Remembered in this browser only: nothing of it travels as a cookie.
    assert context.cookies() == []
    context.close()

    stranger, page = open_post(browser, site)
    page.wait_for_function(
        "() => document.querySelector('.comment-likes[data-comment-id=\"fb-alder\"]')"
        ".textContent === 'Liked by 3 people'"
    )
    assert page.locator("#comment-fb-alder form.like-form button").inner_text() == "Like"
    stranger.close()


def test_save_my_name_and_email_is_unticked_and_fills_the_form_next_time(browser, site):
    context, page = open_post(browser, site)
    box = page.get_by_label("Save my name and email in this browser for the next time I comment.")
    assert box.is_visible()
    assert not box.is_checked()

    form = page.locator("#commentform")
    fill(form, "Hazel", "Saving my details this time, to see it work.", email="hazel@example.org")
    box.check()
    form.get_by_role("button", name="Post Comment").click()
    page.locator("#respond .comment-received").wait_for()

    page.reload()
    assert form.locator("input[name=author]").input_value() == "Hazel"
    assert form.locator("input[name=email]").input_value() == "hazel@example.org"
    assert box.is_checked()
    assert context.cookies() == []

    box.uncheck()
    page.reload()
    assert form.locator("input[name=author]").input_value() == ""
    assert not box.is_checked()
    context.close()


def test_save_my_name_is_not_offered_without_javascript(browser, site):
    context, page = open_post(browser, site, javascript=False)
    assert not page.locator("#remember-me").is_visible()
    context.close()


def test_comments_are_numbered_with_a_link_to_the_form(browser, site):
    context, page = open_post(browser, site)
    dates = page.locator("article.comment .comment-date")
    # In reading order across the thread, replies included: the third shown is #3.
    assert dates.nth(0).inner_text().startswith("#1 · 15 March 2016")
    assert dates.nth(2).inner_text().startswith("#3 · ")
    assert dates.last.inner_text().startswith(f"#{dates.count()} · ")
    page.locator(".comments-jump").get_by_role("link", name="Leave a comment").click()
    page.wait_for_url(f"**{POST_URL}#respond")
    assert page.locator("#commentform").is_visible()
    context.close()


def test_avatars_are_drawn_on_the_site_and_nothing_is_asked_of_another_host(browser, site):
    context = browser.new_context()
    page = context.new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.goto(site + POST_URL)
    page.wait_for_load_state("networkidle")
    avatars = page.locator("article.comment svg.comment-avatar")
    assert avatars.count() == page.locator("article.comment").count()
    # Drawn and shown beside the name, about 40 pixels square.
    box = avatars.first.bounding_box()
    assert box["width"] == pytest.approx(box["height"]) == pytest.approx(40, abs=6)
    name = page.locator("article.comment .comment-author-name").first.bounding_box()
    assert name["x"] > box["x"] + box["width"]
    assert hosts <= {"127.0.0.1", None}
    context.close()


def test_search_finds_a_post_by_a_word_in_it(browser, site):
    context, page = open_post(browser, site)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.wait_for_url("**/archives/#site-search")
    page.get_by_role("searchbox", name="Search the blog").fill("JOURNALS")
    page.locator("form.site-search").get_by_role("button", name="Search").click()
    results = page.locator("#search-results")
    results.wait_for()
    assert "found for “JOURNALS”" in results.locator("h2").inner_text()
    results.get_by_role("link", name="Reading my old journals").click()
    page.wait_for_url("**/reading-my-old-journals/")
    context.close()


def test_search_without_javascript_opens_the_archives(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/archives/")
    page.get_by_role("searchbox", name="Search the blog").fill("journals")
    page.locator("form.site-search").get_by_role("button", name="Search").click()
    page.wait_for_url("**/archives/?q=journals")
    assert page.get_by_role("heading", level=1).inner_text() == "Archives"
    assert page.get_by_role("link", name="Reading my old journals").is_visible()
    context.close()
