"""Threaded comments as a reader meets them: small sites built in tmp folders with the
project's settings, theme and plugin, checked in the HTML, comments.json and the feeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from identicons import identicon_svg

from tests.support.comment_site import small_site, write_comment, write_post
from tests.support.site import PROJECT_ROOT, read_html, run_pelican

ATOM = "{http://www.w3.org/2005/Atom}"
POST_URL = "2016/03/first-post/index.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("comments")
    small_site(root / "content")
    result = run_pelican(root / "content", root / "output")
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "output"


def build(content: Path, *overrides: str) -> tuple[Path, str, int]:
    output = content.parent / "output"
    result = run_pelican(content, output, *overrides)
    return output, result.stdout + result.stderr, result.returncode


def built_small_site(tmp_path: Path) -> tuple[Path, Path]:
    """A small site built once: its content and output folders."""
    content = tmp_path / "content"
    small_site(content)
    output, log, code = build(content)
    assert code == 0, log
    return content, output


def comment(page: BeautifulSoup, comment_id: str):
    return page.select_one(f"article.comment#comment-{comment_id}")


def thread_ids(ol) -> list:
    """The ids of a comment list, with each comment's replies nested after it."""
    result = []
    for item in ol.find_all("li", recursive=False):
        result.append(item.find("article")["data-comment-id"])
        children = item.find("ol", class_="children", recursive=False)
        if children is not None:
            result.append(thread_ids(children))
    return result


# --- threads, order, depth ---------------------------------------------------------------


def test_replies_nest_under_their_parent_oldest_first_and_the_cap_keeps_every_reply(built):
    page = read_html(built / POST_URL)
    section = page.select_one("main section#comments[aria-labelledby=comments-title]")
    assert section.select_one("#comments-title").get_text(strip=True) == "10 Comments"
    top = section.select_one("ol.comment-list")
    # d3..d5 nest to depth 5; d6, d7, d8 are deeper and follow d5 at depth 5.
    assert thread_ids(top) == [
        "a-early",
        ["r1", ["d3", ["d4", ["d5", "d6", "d7", "d8"]]], "r2"],
        "b-late",
    ]
    assert len(page.select("article.comment")) == 10


def test_replies_below_the_cap_say_whom_they_answer(built):
    page = read_html(built / POST_URL)
    for comment_id, parent_name, parent_id in [("d6", "Voice5", "d5"), ("d8", "Voice7", "d7")]:
        note = comment(page, comment_id).select_one(".comment-in-reply-to")
        assert note.get_text(" ", strip=True) == f"in reply to {parent_name}"
        assert note.a["href"] == f"#comment-{parent_id}"
        assert comment(page, comment_id).find_parent("li")["class"][-1] == "depth-5"
    assert comment(page, "d5").select_one(".comment-in-reply-to") is None


def test_order_newest_first_is_a_setting(tmp_path):
    small_site(tmp_path / "content")
    output, log, code = build(tmp_path / "content", 'THREADED_COMMENTS={"ORDER": "newest"}')
    assert code == 0, log
    top = read_html(output / POST_URL).select_one("ol.comment-list")
    ids = thread_ids(top)
    assert ids[0] == "b-late"
    assert ids[2][0] == "r2"


def test_max_depth_setting(tmp_path):
    small_site(tmp_path / "content")
    output, log, code = build(tmp_path / "content", 'THREADED_COMMENTS={"MAX_DEPTH": 2}')
    assert code == 0, log
    page = read_html(output / POST_URL)
    ids = thread_ids(page.select_one("ol.comment-list"))
    assert ids[1] == ["r1", "d3", "d4", "d5", "d6", "d7", "d8", "r2"]
    assert "in reply to Maren" in comment(page, "d3").get_text(" ", strip=True)
    assert comment(page, "r2").select_one(".comment-in-reply-to") is None


# --- one comment: author, date, likes, links, badge ----------------------------------------


def test_comment_shows_author_link_permalink_date_and_body(built):
    page = read_html(built / POST_URL)
    juniper = comment(page, "a-early")
    link = juniper.select_one(".comment-author a")
    assert link.get_text() == "Juniper"
    assert link["href"] == "https://juniper.example.net"
    assert link["rel"] == ["nofollow", "ugc", "noopener"]
    permalink = juniper.select_one("a.comment-permalink")
    assert permalink["href"] == "#comment-a-early"
    assert permalink.time["datetime"] == "2016-03-15T07:00:00+00:00"
    assert permalink.get_text(strip=True) == "15 March 2016 at 07:00"
    assert juniper.select_one(".comment-content em").get_text() == "counting of hours"
    # No website: the name is plain text.
    assert comment(page, "r2").select_one(".comment-author a") is None


def test_links_in_bodies_are_nofollow_ugc_noopener(built):
    link = comment(read_html(built / POST_URL), "b-late").select_one(".comment-content a")
    assert link["href"] == "https://notes.example.org/x"
    assert link["rel"] == ["nofollow", "ugc", "noopener"]


@pytest.mark.parametrize(
    ("comment_id", "text"),
    [("a-early", "Liked by 3 people"), ("b-late", "Liked by 1 person"), ("r2", "")],
)
def test_likes_wording(built, comment_id, text):
    likes = comment(read_html(built / POST_URL), comment_id).select_one("p.comment-likes")
    assert likes["data-comment-id"] == comment_id
    assert likes.get_text(strip=True) == text


def test_author_badge_only_on_the_authors_comments(built):
    page = read_html(built / POST_URL)
    badges = page.select("article.comment .comment-author-badge")
    assert [b.find_parent("article")["id"] for b in badges] == ["comment-r1"]
    assert badges[0].get_text() == "Author"
    assert "by-author" in comment(page, "r1")["class"]


def test_like_button_and_reply_link_follow_the_contract(built):
    juniper = comment(read_html(built / POST_URL), "a-early")
    like = juniper.select_one("form.like-form")
    assert (like["method"], like["action"]) == ("post", "/api/likes")
    fields = {field["name"]: field["value"] for field in like.select("input[type=hidden]")}
    assert fields == {"post": "first-post", "comment": "a-early"}
    assert like.button["type"] == "submit"
    assert like.button.get_text(strip=True) == "Like"
    reply = juniper.select_one("a.comment-reply-link")
    assert reply["data-replyto"] == "a-early"
    assert reply.get_text(strip=True) == "Reply"
    assert reply["href"].startswith("?replyto=a-early#")


def test_reply_without_javascript_opens_a_form_that_names_the_comment(built):
    page = read_html(built / POST_URL)
    reply = comment(page, "r1").select_one("a.comment-reply-link")
    target = page.select_one("#" + reply["href"].split("#", 1)[1])
    assert target["class"] == ["comment-reply-form"]
    form = target.form
    assert (form["method"], form["action"]) == ("post", "/api/comments")
    assert form.select_one("input[name=replyto]")["value"] == "r1"
    assert form.select_one("input[name=post]")["value"] == "first-post"
    assert "Replying to Maren" in form.get_text(" ", strip=True)
    labels = {
        name: form.select_one(f"[name={name}]").find_parent("label").get_text(" ", strip=True)
        for name in ("author", "email", "website", "comment", "subject")
    }
    assert labels["author"] == "Name (required)"
    assert labels["email"] == "Email (required, never published)"
    assert labels["comment"] == "Comment (required)"
    assert form.select_one("[name=subject]").find_parent("label")["aria-hidden"] == "true"
    assert form.select_one("[name=subject]")["tabindex"] == "-1"
    # Shown only as the URL's target, by CSS that ships with the theme.
    css = (PROJECT_ROOT / "theme/static/css/comments.css").read_text()
    assert ".comment-reply-form {\n  display: none;" in css
    assert ".comment-reply-form:target {\n  display: block;" in css


# --- the form --------------------------------------------------------------------------------


def test_leave_a_reply_form_follows_the_contract(built):
    page = read_html(built / POST_URL)
    respond = page.select_one("section#comments div#respond")
    assert respond.select_one("h3").get_text(" ", strip=True).startswith("Leave a Reply")
    pending = respond.select_one("p#comment-pending")
    assert pending["class"] == ["comment-notice"]
    assert pending["role"] == "status"
    assert pending.get_text().startswith("Your comment is awaiting moderation.")
    # A reader without JavaScript collects her private removal link from the intake, once.
    assert pending.select_one("a")["href"] == "/api/comments/receipt"
    form = respond.select_one("form#commentform")
    assert (form["method"], form["action"]) == ("post", "/api/comments")
    assert form.select_one("input[type=hidden][name=post]")["value"] == "first-post"
    assert form.select_one("input[type=hidden][name=replyto]")["value"] == ""
    labels = {}
    for name in ("author", "email", "website", "comment", "subject"):
        field = form.select_one(f"[name={name}]")
        labels[name] = form.select_one(f"label[for={field['id']}]").get_text(" ", strip=True)
    assert labels["author"] == "Name (required)"
    assert labels["email"] == "Email (required, never published)"
    assert labels["comment"] == "Comment (required)"
    assert form.select_one("[name=author]").has_attr("required")
    assert form.select_one("[name=email]").has_attr("required")
    assert form.select_one("textarea[name=comment]") is not None
    assert form.button.get_text(strip=True) == "Post Comment"
    text = form.get_text(" ", strip=True)
    assert "moderated" in text
    assert "Akismet" in text
    assert form.select_one("a[href='https://akismet.com/privacy/']") is not None


def test_honeypot_is_hidden_from_people_screen_readers_and_the_keyboard(built):
    form = read_html(built / POST_URL).select_one("form#commentform")
    trap = form.select_one("input[name=subject]")
    assert trap["type"] == "text"
    assert trap["tabindex"] == "-1"
    assert trap["autocomplete"] == "off"
    holder = trap.find_parent("p")
    assert holder["aria-hidden"] == "true"
    css = (PROJECT_ROOT / "theme/static/css/comments.css").read_text()
    assert f".{holder['class'][0]} {{\n  position: absolute;\n  left: -10000px;" in css


def test_pending_notice_is_hidden_until_it_is_the_target(built):
    css = (PROJECT_ROOT / "theme/static/css/comments.css").read_text()
    assert ".comment-notice {\n  display: none;" in css
    assert ".comment-notice:target" in css


# --- lists, closing, feeds, comments.json -----------------------------------------------


def test_list_pages_say_n_comments_or_leave_a_comment(built):
    index = read_html(built / "index.html")
    counts = {}
    for summary in index.select("article.summary"):
        link = summary.select_one("a.comment-count")
        title = summary.h2.get_text(strip=True)
        counts[title] = None if link is None else (link.get_text(strip=True), link["href"])
    assert counts["Post first-post"] == ("10 Comments", "/2016/03/first-post/#comments")
    assert counts["Post single-post"] == ("1 Comment", "/2016/05/single-post/#comments")
    assert counts["Post quiet-post"] == ("Leave a comment", "/2016/04/quiet-post/#comments")
    assert counts["Post closed-post"] == ("1 Comment", "/2016/06/closed-post/#comments")
    category = read_html(built / "category/misc/index.html")
    link = category.select_one("a.comment-count[href='/2016/03/first-post/#comments']")
    assert link.get_text(strip=True) == "10 Comments"


def test_closed_post_shows_comments_but_no_form(built):
    page = read_html(built / "2016/06/closed-post/index.html")
    section = page.select_one("section#comments")
    assert section.select_one("p.comments-closed").get_text() == "Comments are closed."
    assert section.select_one("#respond") is None
    assert section.select_one("form") is None
    assert comment(page, "c1") is not None
    assert section.select_one("a.comment-reply-link") is None


def test_comments_close_after_a_number_of_days(tmp_path):
    small_site(tmp_path / "content")
    write_post(tmp_path / "content", "fresh-post", "2100-01-01 10:00")
    output, log, code = build(tmp_path / "content", 'THREADED_COMMENTS={"CLOSE_AFTER_DAYS": 30}')
    assert code == 0, log
    old = read_html(output / "2016/04/quiet-post/index.html")
    assert old.select_one("p.comments-closed") is not None
    assert old.select_one("form#commentform") is None
    fresh = read_html(output / "2100/01/fresh-post/index.html")
    assert fresh.select_one("form#commentform") is not None
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["quiet-post"]["open"] is False
    assert posts["fresh-post"]["open"] is True
    index = read_html(output / "index.html")
    quiet = next(s for s in index.select("article.summary") if "quiet-post" in s.h2.get_text())
    assert quiet.select_one("a.comment-count") is None


def test_comments_json_lists_every_post_its_state_ids_and_likes(built):
    document = json.loads((built / "comments.json").read_text(encoding="utf-8"))
    posts = document["posts"]
    assert set(posts) == {"first-post", "quiet-post", "single-post", "closed-post"}
    first = posts["first-post"]
    assert first["url"] == "/2016/03/first-post/"
    assert first["title"] == "Post first-post"
    assert first["open"] is True
    assert first["modified"].startswith("2016-03-14T20:00:00")
    assert sorted(first["comments"]) == sorted(
        ["a-early", "b-late", "r1", "r2", "d3", "d4", "d5", "d6", "d7", "d8"]
    )
    assert first["likes"]["a-early"] == 3
    assert first["likes"]["r2"] == 0
    assert posts["closed-post"]["open"] is False
    assert posts["closed-post"]["comments"] == ["c1"]
    assert posts["quiet-post"]["comments"] == []


def test_comment_feeds_per_post_and_site_wide(built):
    page = read_html(built / POST_URL)
    link = page.select_one("section#comments a[rel=alternate][type='application/atom+xml']")
    assert link["href"] == "/feeds/comments/first-post.atom.xml"
    feed = ET.parse(built / "feeds/comments/first-post.atom.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 10
    newest = entries[0]
    assert newest.find(f"{ATOM}author/{ATOM}name").text == "Hollis"
    assert newest.find(f"{ATOM}link").get("href").endswith("/2016/03/first-post/#comment-b-late")
    assert "notes.example.org" in newest.find(f"{ATOM}content").text
    latest = ET.parse(built / "feeds/comments.atom.xml").getroot()
    ids = [entry.find(f"{ATOM}id").text for entry in latest.findall(f"{ATOM}entry")]
    assert len(ids) == 12
    assert ids[0].endswith("/2016/06/closed-post/#comment-c1")


def test_comment_files_are_not_read_as_articles(built):
    assert not list(built.rglob("*a-early*"))
    assert len(json.loads((built / "comments.json").read_text())["posts"]) == 4


# --- pelican-comment-system files, privacy --------------------------------------------------


def test_pelican_comment_system_spelling_reads_and_drops_the_email(tmp_path):
    content = tmp_path / "content"
    write_post(content, "first-post", "2016-03-14 20:00")
    write_comment(content, "first-post", "c001", "The first word.")
    (content / "comments/first-post/c002.md").write_text(
        "email: hidden.person@example.org\nauthor: Old Reader\ndate: 2014-05-03 13:05\n"
        "replyto: c001.md\n\nA reply from the old plugin.\n",
        encoding="utf-8",
    )
    output, log, code = build(content)
    assert code == 0, log
    page = read_html(output / POST_URL)
    reply = comment(page, "c002")
    assert reply.find_parent("ol")["class"] == ["children"]
    assert reply.find_parent("li").find_parent("li").article["id"] == "comment-c001"
    for path in output.rglob("*"):
        if path.is_file():
            assert "hidden.person" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_sample_discussion_on_texting_my_therapist(sample_site):
    page = read_html(sample_site / "2016/03/texting-my-therapist/index.html")
    top = page.select("ol.comment-list > li > article.comment")
    assert len(top) >= 10
    depths = [int(li["class"][-1].split("-")[1]) for li in page.select("li.comment-thread")]
    assert max(depths) >= 3
    author_replies = page.select("article.comment.by-author")
    assert len(author_replies) >= 3
    assert all("Maren" in a.select_one(".comment-author").get_text() for a in author_replies)
    likes = [p.get_text(strip=True) for p in page.select("p.comment-likes")]
    assert any(text.startswith("Liked by") for text in likes)
    assert page.select_one(".comment-author a[rel='nofollow ugc noopener']") is not None
    for post in ("the-rules-we-settled-on", "when-she-went-on-leave"):
        path = next(sample_site.glob(f"*/*/{post}/index.html"))
        assert read_html(path).select("article.comment")


def test_no_email_address_anywhere_in_the_sample_output(sample_site):
    for path in sample_site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".json"}:
            text = path.read_text(encoding="utf-8")
            assert "@example.org" not in text.replace("mailto:", ""), path
            assert "email:" not in text, path


# --- build errors ------------------------------------------------------------------------


def error_site(content: Path) -> None:
    write_post(content, "first-post", "2016-03-14 20:00")
    write_post(content, "second-post", "2016-04-14 20:00")
    write_comment(content, "first-post", "good", "Fine.")


BAD_FILES = {
    "replyto-unknown": ("first-post", "bad", "author: A\ndate: 2016-03-15\nreplyto: nobody\n\nHi"),
    "replyto-other-post": (
        "second-post",
        "bad",
        "author: A\ndate: 2016-03-15\nreplyto: good\n\nHi",
    ),
    "missing-author": ("first-post", "bad", "date: 2016-03-15\n\nHi"),
    "missing-date": ("first-post", "bad", "author: A\n\nHi"),
    "missing-body": ("first-post", "bad", "author: A\ndate: 2016-03-15\n\n   \n"),
    "bad-date": ("first-post", "bad", "author: A\ndate: the fourteenth of Smarch\n\nHi"),
    "no-such-post": ("no-such-post", "bad", "author: A\ndate: 2016-03-15\n\nHi"),
    "bad-website": (
        "first-post",
        "bad",
        "author: A\ndate: 2016-03-15\nwebsite: javascript:x\n\nHi",
    ),
    "bad-likes": ("first-post", "bad", "author: A\ndate: 2016-03-15\nlikes: many\n\nHi"),
    "reply-loop": ("first-post", "bad", "author: A\ndate: 2016-03-15\nreplyto: bad\n\nHi"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_comment_file_stops_the_build_naming_it(tmp_path, case):
    content = tmp_path / "content"
    error_site(content)
    post, name, text = BAD_FILES[case]
    folder = content / "comments" / post
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")
    _output, log, code = build(content)
    assert code != 0, log
    named = f"comments/{post}" if case == "no-such-post" else f"comments/{post}/{name}.md"
    assert named in log, log
    assert "CommentFileError" in log


def test_one_id_in_two_files_of_a_post_stops_the_build_naming_both(tmp_path):
    content = tmp_path / "content"
    error_site(content)
    (content / "comments/first-post/good.markdown").write_text(
        "author: A\ndate: 2016-03-15\n\nHi", encoding="utf-8"
    )
    _output, log, code = build(content)
    assert code != 0, log
    assert "CommentFileError" in log
    assert "comments/first-post/good.markdown" in log
    assert "comments/first-post/good.md" in log.replace("good.markdown", "")


# --- pelican-comment-system's layout, stray files, empty folders ----------------------------


def test_pelican_comment_system_example_layout_threads_on_both_posts(tmp_path):
    """Its documented example: 0.md and 1.md (replyto: 0.md) in two posts' folders; ids
    are unique within a post, not across the site."""
    content = tmp_path / "content"
    for slug, date in (("first-post", "2016-03-14 20:00"), ("second-post", "2016-04-14 20:00")):
        write_post(content, slug, date)
        folder = content / "comments" / slug
        folder.mkdir(parents=True)
        (folder / "0.md").write_text(
            f"email: someone@example.org\nauthor: Ada on {slug}\ndate: 2014-03-21 12:00\n\n"
            "The first comment.\n",
            encoding="utf-8",
        )
        (folder / "1.md").write_text(
            f"author: Bo on {slug}\ndate: 2014-03-21 13:00\nreplyto: 0.md\n\nA reply.\n",
            encoding="utf-8",
        )
    output, log, code = build(content)
    assert code == 0, log
    for path, slug in (
        (POST_URL, "first-post"),
        ("2016/04/second-post/index.html", "second-post"),
    ):
        page = read_html(output / path)
        assert thread_ids(page.select_one("ol.comment-list")) == ["0", ["1"]]
        assert comment(page, "0").select_one(".comment-author").get_text() == f"Ada on {slug}"
        reply = comment(page, "1")
        assert reply.select_one(".comment-author").get_text() == f"Bo on {slug}"
        assert reply.find_parent("li").find_parent("li").article["id"] == "comment-0"
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["first-post"]["comments"] == ["0", "1"]
    assert posts["second-post"]["comments"] == ["0", "1"]


def test_a_file_that_is_not_markdown_is_named_in_a_warning_and_skipped(tmp_path):
    content = tmp_path / "content"
    error_site(content)
    (content / "comments/first-post/notes.txt").write_text("to do: reply\n", encoding="utf-8")
    output, log, code = build(content)
    assert code == 0, log
    assert "comments/first-post/notes.txt (not a .md or .markdown comment file)" in log
    page = read_html(output / POST_URL)
    assert [a["id"] for a in page.select("article.comment")] == ["comment-good"]


def test_an_empty_comment_folder_is_ignored_even_for_no_post(tmp_path):
    content = tmp_path / "content"
    error_site(content)
    (content / "comments/second-post").mkdir()
    (content / "comments/no-such-post").mkdir()
    output, log, code = build(content)
    assert code == 0, log
    assert "no-such-post" not in log
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["second-post"]["comments"] == []
    assert "no-such-post" not in posts


# --- comments on pages ----------------------------------------------------------------------


def test_pages_take_comments_only_with_comments_open(tmp_path):
    content = tmp_path / "content"
    error_site(content)
    pages = content / "pages"
    pages.mkdir()
    (pages / "about.md").write_text(
        "Title: About\nSlug: about\nComments: open\n\nWho writes here.\n", encoding="utf-8"
    )
    (pages / "colophon.md").write_text(
        "Title: Colophon\nSlug: colophon\n\nHow it is made.\n", encoding="utf-8"
    )
    write_comment(content, "about", "p1", "Hello, *author*.", author="Juniper")
    write_comment(content, "about", "p2", "Hello back.", author="Maren", replyto="p1")
    output, log, code = build(content)
    assert code == 0, log
    about = read_html(output / "about/index.html")
    section = about.select_one("section#comments")
    assert section.select_one("#comments-title").get_text(strip=True) == "2 Comments"
    assert thread_ids(section.select_one("ol.comment-list")) == ["p1", ["p2"]]
    assert comment(about, "p1").select_one(".comment-content em").get_text() == "author"
    form = section.select_one("form#commentform")
    assert form.select_one("input[name=post]")["value"] == "about"
    feed_link = section.select_one("a[rel=alternate][type='application/atom+xml']")
    assert feed_link["href"] == "/feeds/comments/about.atom.xml"
    feed = ET.parse(output / "feeds/comments/about.atom.xml").getroot()
    assert len(feed.findall(f"{ATOM}entry")) == 2
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["about"]["url"] == "/about/"
    assert posts["about"]["open"] is True
    assert posts["about"]["comments"] == ["p1", "p2"]
    # Off by default: no section, no form, no comments.json entry.
    colophon = read_html(output / "colophon/index.html")
    assert colophon.select_one("section#comments") is None
    assert "colophon" not in posts
    # Comments for a page that does not take them belong to nothing: the build stops.
    write_comment(content, "colophon", "x1", "Hi")
    _output, log, code = build(content)
    assert code != 0
    assert "comments/colophon" in log


def test_a_plain_pelican_site_with_another_theme_gets_the_plugins_own_thread(tmp_path):
    """Pelican's notmyidea theme has no partials/comment_thread.html: the plugin's own makes
    comments_html, here printed by the one template the site adds."""
    content = tmp_path / "content"
    small_site(content)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "article.html").write_text(
        '{% extends "!theme/article.html" %}{% block content %}{{ super() }}'
        '<section id="comments">{{ article.comments_html }}</section>{% endblock %}'
    )
    settings = tmp_path / "pelicanconf.py"
    settings.write_text(
        f"PLUGIN_PATHS = [{str(PROJECT_ROOT / 'plugins')!r}]\n"
        "PLUGINS = ['threaded_comments']\n"
        "THEME = 'notmyidea'\n"
        f"THEME_TEMPLATES_OVERRIDES = [{str(templates)!r}]\n"
        "TIMEZONE = 'UTC'\n"
        "ARTICLE_URL = ARTICLE_SAVE_AS = '{slug}.html'\n"
    )
    output = tmp_path / "output"
    result = subprocess.run(
        [sys.executable, "-m", "pelican", str(content), "-o", str(output), "-s", str(settings),
         "--fatal", "errors", "--log-handler", "plain"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    page = read_html(output / "first-post.html")
    thread = page.select_one("section#comments > ol.comment-list")
    assert [li["id"] for li in thread.find_all("li", recursive=False)] == [
        "comment-a-early",
        "comment-b-late",
    ]
    early = thread.select_one("li#comment-a-early")
    assert early.select_one(".comment-meta a")["href"] == "https://juniper.example.net"
    assert early.select_one(".comment-meta time")["datetime"] == "2016-03-15T07:00:00+00:00"
    assert early.select_one(".comment-content em").get_text() == "counting of hours"
    assert early.select_one(".comment-likes").get_text() == "Liked by 3 people"
    replies = early.select_one("ol.children").find_all("li", recursive=False)
    assert [li["id"] for li in replies] == ["comment-r1", "comment-r2"]
    # No form: posting comments is the site's own business, not the plugin's.
    assert page.select_one("section#comments form") is None
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["first-post"]["comments"][:2] == ["a-early", "b-late"]


# --- caching ------------------------------------------------------------------------------


def test_unchanged_rebuild_gives_the_same_pages_and_edits_show_up(tmp_path):
    content, output = built_small_site(tmp_path)
    first = (output / POST_URL).read_text()
    assert (tmp_path / "output-cache" / "threaded_comments.pickle").exists()
    output, log, code = build(content)
    assert code == 0, log
    assert (output / POST_URL).read_text() == first
    # Same size, new text and time: the cache must notice.
    path = content / "comments/first-post/r2.md"
    path.write_text(path.read_text().replace("Same here.", "Also me."))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    write_comment(content, "quiet-post", "q1", "Now not so quiet.", date="2016-04-02T10:00:00")
    output, log, code = build(content)
    assert code == 0, log
    page = read_html(output / POST_URL)
    assert comment(page, "r2").select_one(".comment-content").get_text(strip=True) == "Also me."
    quiet = read_html(output / "2016/04/quiet-post/index.html")
    assert comment(quiet, "q1") is not None
    assert (
        "q1"
        in json.loads((output / "comments.json").read_text())["posts"]["quiet-post"]["comments"]
    )


def test_an_unchanged_rebuild_opens_no_comment_file(tmp_path):
    content, output = built_small_site(tmp_path)
    # New text of the same size with the old modification time: the stamp is unchanged,
    # so the page shows what the cache holds, which proves the file was not read again.
    path = content / "comments/first-post/r2.md"
    status = path.stat()
    path.write_text(path.read_text().replace("Same here.", "Xxxx xxxx."))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    output, log, code = build(content)
    assert code == 0, log
    page = read_html(output / POST_URL)
    assert comment(page, "r2").select_one(".comment-content").get_text(strip=True) == "Same here."


def test_a_rebuild_makes_a_deleted_or_altered_comment_feed_again(tmp_path):
    # A rebuild leaves the feeds of unchanged posts alone as long as each is as the last
    # build left it: one deleted from the output, or changed there, is made again.
    content, output = built_small_site(tmp_path)
    feeds = output / "feeds/comments"
    first = {path.name: path.read_bytes() for path in feeds.iterdir()}
    assert len(first) >= 2
    deleted, altered = sorted(first)[:2]
    (feeds / deleted).unlink()
    (feeds / altered).write_bytes(first[altered].replace(b"<feed", b"<feed xml:lang='xx'"))
    output, log, code = build(content)
    assert code == 0, log
    assert {path.name: path.read_bytes() for path in feeds.iterdir()} == first


def test_a_rebuild_makes_a_deleted_or_altered_comments_json_or_site_feed_again(tmp_path):
    # With nothing changed, a rebuild leaves comments.json and the site-wide feed alone
    # (same date and inode); each one deleted or changed in the output is made again.
    content, output = built_small_site(tmp_path)
    index, feed_all = output / "comments.json", output / "feeds/comments.atom.xml"
    first = {path: (path.read_bytes(), path.stat()) for path in (index, feed_all)}
    output, log, code = build(content)
    assert code == 0, log
    for path, (data, status) in first.items():
        assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == (
            data,
            status.st_ino,
            status.st_mtime_ns,
        )
    index.unlink()
    feed_all.write_bytes(first[feed_all][0].replace(b"<feed", b"<feed xml:lang='xx'"))
    output, log, code = build(content)
    assert code == 0, log
    assert {path: path.read_bytes() for path in first} == {
        path: data for path, (data, _) in first.items()
    }


def test_a_post_edited_without_its_comments_changing_updates_comments_json(tmp_path):
    # Its comments come from the cache; its new date is in comments.json all the same.
    content, output = built_small_site(tmp_path)
    post = content / "quiet-post.md"
    post.write_text(post.read_text().replace("Slug:", "Modified: 2016-04-09 08:00\nSlug:"))
    output, log, code = build(content)
    assert code == 0, log
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["quiet-post"]["modified"].startswith("2016-04-09T08:00")


def test_the_cache_follows_cache_content_and_load_content_cache(tmp_path):
    content = tmp_path / "content"
    small_site(content)
    cache = tmp_path / "output-cache" / "threaded_comments.pickle"
    output, log, code = build(content, "CACHE_CONTENT=false")
    assert code == 0, log
    assert not cache.exists()
    output, log, code = build(content)
    assert code == 0, log
    assert cache.exists()
    # Same stamp, new text: only a build that does not load the cache reads it.
    path = content / "comments/first-post/r2.md"
    status = path.stat()
    path.write_text(path.read_text().replace("Same here.", "Also me!!"))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    output, log, code = build(content, "LOAD_CONTENT_CACHE=false")
    assert code == 0, log
    page = read_html(output / POST_URL)
    assert comment(page, "r2").select_one(".comment-content").get_text(strip=True) == "Also me!!"


def test_a_cache_from_another_version_of_the_plugin_is_ignored(tmp_path):
    content = tmp_path / "content"
    small_site(content)
    cache = tmp_path / "output-cache"
    cache.mkdir()
    # A pickle naming a class this version does not have.
    (cache / "threaded_comments.pickle").write_bytes(b"cthreaded_comments.cache\nGone\n.")
    output, log, code = build(content)
    assert code == 0, log
    assert "ignoring the cache of another version" in log
    assert len(read_html(output / POST_URL).select("article.comment")) == 10


def texts_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "output-cache").glob("threaded_comments.*.texts"))


def test_a_texts_file_cut_short_remakes_the_cache(tmp_path):
    # The pickle points into the texts file; a crash that lost the file's end must not put
    # part of a thread, or another post's, on a page.
    content, output = built_small_site(tmp_path)
    first = (output / POST_URL).read_text()
    [texts] = texts_files(tmp_path)
    texts.write_bytes(texts.read_bytes()[:-100])
    (output / POST_URL).unlink()
    output, log, code = build(content)
    assert code == 0, log
    assert "is gone or cut short; making the cache anew" in log
    assert (output / POST_URL).read_text() == first
    assert [path.name for path in texts_files(tmp_path)] != [texts.name]


def test_the_texts_file_keeps_to_the_texts_in_use(tmp_path):
    # Each edit appends the post's new texts; once the former ones are more than those in
    # use, the next build copies these into a new file and deletes the old.
    content, output = built_small_site(tmp_path)
    path = content / "comments/first-post/r2.md"
    sizes, said = [], "Same here."
    for edit in range(4):
        path.write_text(path.read_text().replace(said, f"Edit {edit}."))
        said = f"Edit {edit}."
        output, log, code = build(content)
        assert code == 0, log
        [texts] = texts_files(tmp_path)
        sizes.append(texts.stat().st_size)
        page = read_html(output / POST_URL)
        assert comment(page, "r2").select_one(".comment-content").get_text() == f"Edit {edit}."
    # Two edits left the first post's former texts the file's larger part.
    assert sizes[0] < sizes[1] > sizes[2]
    # A rebuild with nothing changed reads its threads from the file it was left with.
    (output / POST_URL).unlink()
    output, log, code = build(content)
    assert code == 0, log
    assert comment(read_html(output / POST_URL), "r2").get_text().count("Edit 3.") == 1


def test_a_changed_thread_template_remakes_the_cached_threads(tmp_path):
    content, output = built_small_site(tmp_path)
    templates = tmp_path / "templates" / "partials"
    templates.mkdir(parents=True)
    theirs = (PROJECT_ROOT / "theme/templates/partials/comment_thread.html").read_text()
    (templates / "comment_thread.html").write_text(
        theirs.replace('<ol class="comment-list">', '<ol class="comment-list themed">')
    )
    override = f"THEME_TEMPLATES_OVERRIDES={json.dumps([str(templates.parent)])}"
    output, log, code = build(content, override)
    assert code == 0, log
    assert read_html(output / POST_URL).select_one("ol.comment-list.themed") is not None


def test_a_new_identicon_secret_redraws_the_avatars_in_cached_threads(tmp_path):
    content = tmp_path / "content"
    small_site(content)
    for secret in ("the-first-secret", "the-second-secret"):
        output, log, code = build(content, f"IDENTICON_SECRET={json.dumps(secret)}")
        assert code == 0, log
        avatar = comment(read_html(output / POST_URL), "a-early").select_one("svg")
        drawn = BeautifulSoup(identicon_svg("Juniper", secret), "html.parser").svg
        assert avatar == drawn, secret


def test_a_post_with_hundreds_of_comments_builds_them_all(tmp_path):
    content = tmp_path / "content"
    write_post(content, "busy-post", "2016-03-14 20:00")
    for number in range(400):
        write_comment(
            content,
            "busy-post",
            f"n{number:03d}",
            f"Comment number {number}, with *a little* Markdown now and then."
            if number % 7 == 0
            else f"Comment number {number}.",
            replyto=f"n{number - 1:03d}" if number % 3 else "",
            date=f"2016-03-15T10:{number // 60:02d}:{number % 60:02d}+00:00",
        )
    output, log, code = build(content)
    assert code == 0, log
    page = read_html(output / "2016/03/busy-post/index.html")
    assert len(page.select("article.comment")) == 400
    assert comment(page, "n007").select_one("em").get_text() == "a little"
    # A bad file among many is still named.
    write_comment(content, "busy-post", "zzz", "Hi", replyto="nobody")
    output, log, code = build(content)
    assert code != 0
    assert "comments/busy-post/zzz.md" in log


def test_element_ids_on_a_post_page_are_unique(built):
    ids = [tag["id"] for tag in read_html(built / POST_URL).find_all(id=True)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


THREAD_TEMPLATE = """{% for c in article.comments recursive -%}
<li data-id="{{ c.id }}" data-depth="{{ c.depth }}" data-likes="{{ c.likes }}">{{ c.content }}
{%- if c.replies %}<ul>{{ loop(c.replies) }}</ul>{% endif %}</li>
{%- endfor %}"""


def test_a_template_can_walk_article_comments_as_a_tree_on_cold_and_cached_builds(tmp_path):
    content = tmp_path / "content"
    small_site(content)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "article.html").write_text(THREAD_TEMPLATE, encoding="utf-8")
    override = f"THEME_TEMPLATES_OVERRIDES={json.dumps([str(templates)])}"
    pages = []
    for _ in range(2):  # the second build takes the comments from the plugin's cache
        output, log, code = build(content, override)
        assert code == 0, log
        pages.append(BeautifulSoup((output / POST_URL).read_text(), "html.parser"))
    assert str(pages[0]) == str(pages[1])
    page = pages[1]
    top = [li["data-id"] for li in page.find_all("li", recursive=False)]
    assert top == ["a-early", "b-late"]
    early = page.find("li", attrs={"data-id": "a-early"})
    assert early["data-likes"] == "3"
    assert early.find("em").get_text() == "counting of hours"
    replies = [li["data-id"] for li in early.find("ul").find_all("li", recursive=False)]
    assert replies == ["r1", "r2"]
    assert page.find("li", attrs={"data-id": "d7"})["data-depth"] == "5"


def test_closing_comments_on_a_built_post_keeps_its_thread_without_reply_forms(tmp_path):
    content, output = built_small_site(tmp_path)
    assert comment(read_html(output / POST_URL), "r2").select_one("a.comment-reply-link")
    post = content / "first-post.md"
    post.write_text(post.read_text().replace("Slug:", "Comments: closed\nSlug:"))
    output, log, code = build(content)
    assert code == 0, log
    page = read_html(output / POST_URL)
    assert page.select_one("p.comments-closed").get_text() == "Comments are closed."
    assert len(page.select("article.comment")) == 10
    assert comment(page, "r2").select_one(".comment-content").get_text(strip=True) == "Same here."
    assert not page.select("a.comment-reply-link") and not page.select("form")
    index = json.loads((output / "comments.json").read_text())
    assert index["posts"]["first-post"]["open"] is False


def test_a_closed_page_shows_the_comments_it_had_without_a_form(tmp_path):
    # As WordPress does, and as the importer writes a page whose comments were closed there.
    content = tmp_path / "content"
    error_site(content)
    pages = content / "pages"
    pages.mkdir()
    (pages / "about.md").write_text(
        "Title: About\nSlug: about\nComments: closed\n\nWho writes here.\n", encoding="utf-8"
    )
    write_comment(content, "about", "p1", "Thank you for this page.", author="Juniper")
    output, log, code = build(content)
    assert code == 0, log
    section = read_html(output / "about/index.html").select_one("section#comments")
    assert thread_ids(section.select_one("ol.comment-list")) == ["p1"]
    assert section.select_one("form") is None
    posts = json.loads((output / "comments.json").read_text())["posts"]
    assert posts["about"]["open"] is False
