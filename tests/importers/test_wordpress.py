"""`invoke import-wordpress`: a WordPress export in, posts and threaded comments out.

The export (tests/fixtures/wordpress/export.xml) is written for these tests. It is imported
into a tmp content folder, built with the project's settings, theme and plugins, and the
pages are read the way a reader would see them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from moderation.importers.files import MANIFEST_NAME, write_files
from moderation.importers.wordpress import WXRError, import_wordpress
from moderation.settings import load_settings
from tests.support.site import PROJECT_ROOT, folder_files, read_html, run_pelican

EXPORT = PROJECT_ROOT / "tests" / "fixtures" / "wordpress" / "export.xml"
TEXTING = "texting-my-therapist"
# The project's own settings: URLs and the comments folder as the site has them.
SETTINGS = load_settings(PROJECT_ROOT / "pelicanconf.py", environ={})
# Words from the export's items and comments that must never reach the new site.
LEFT_OUT_MARKERS = (
    "SPAM-MARKER",  # spam comment
    "PENDING-MARKER",  # pending comment
    "TRASH-MARKER",  # trashed comment
    "TRASHED-WITH-POST-MARKER",  # comment trashed with its post
    "PINGBACK-MARKER",  # pingback
    "TRACKBACK-MARKER",  # trackback
    "ATTACHMENT-MARKER",  # attachment
    "MENU-MARKER",  # nav_menu_item
    "BINNED-POST-MARKER",  # trashed post
    "PROTECTED-MARKER",  # password-protected post
)


def export_values(tag: str) -> set[str]:
    """Every non-empty value of a wp: field in the export (e.g. emails, IP addresses)."""
    text = EXPORT.read_text(encoding="utf-8")
    found = re.findall(rf"<wp:{tag}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</wp:{tag}>", text)
    return {value for value in found if value.strip()}


PRIVATE_VALUES = (
    export_values("comment_author_email")
    | export_values("comment_author_IP")
    | export_values("author_email")
    | export_values("post_password")
)


def import_into(content: Path, *, force: bool = False, source: Path = EXPORT):
    return import_wordpress(source, SETTINGS, force=force, content_dir=content)


def metadata(path: Path) -> dict[str, str]:
    header = path.read_text(encoding="utf-8").partition("\n\n")[0]
    return dict(line.split(": ", 1) for line in header.splitlines())


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    content = tmp_path_factory.mktemp("wordpress") / "content"
    import_into(content)
    return content


@pytest.fixture(scope="module")
def built(imported: Path) -> Path:
    output = imported.parent / "output"
    result = run_pelican(imported, output)
    assert result.returncode == 0, result.stdout + result.stderr
    return output


def comment_article(page: BeautifulSoup, comment_id: str):
    element = page.find("article", id=f"comment-{comment_id}")
    assert element is not None, f"comment {comment_id} is not on the page"
    assert "comment" in element["class"]
    return element


def thread_of(page: BeautifulSoup, comment_id: str):
    """The element holding a comment and its replies (the theme's thread item)."""
    return comment_article(page, comment_id).find_parent("li")


# --- what the importer writes -------------------------------------------------------------


def test_posts_pages_and_drafts_are_written_with_their_metadata(imported: Path):
    post = metadata(imported / f"{TEXTING}.md")
    assert post["Title"] == "Texting my therapist"
    assert post["Date"] == "2016-03-14 20:15"
    assert post["Slug"] == TEXTING
    assert post["Author"] == "Maren"  # the display name, not the login
    assert post["Category"] == "Therapy"
    assert post["Tags"] == "boundaries, texting"
    assert "Status" not in post

    second = metadata(imported / "the-rules-we-settled-on.md")
    assert second["Tags"] == "Everyday, boundaries"  # a second category becomes a tag
    assert second["Summary"] == "The three rules that made texting my therapist work."

    draft = metadata(imported / "half-a-thought-about-endings.md")  # no post_name: from title
    assert draft["Status"] == "draft"

    assert metadata(imported / "when-she-went-on-leave.md")["Comments"] == "closed"
    assert metadata(imported / "pages" / "about.md")["Title"] == "About"
    # A non-ASCII slug, which WordPress stores percent-encoded.
    assert metadata(imported / "café-afternoons.md")["Title"] == (
        "Café afternoons, and what I didn't say"
    )


def test_post_html_becomes_clean_markdown(imported: Path):
    body = (imported / f"{TEXTING}.md").read_text(encoding="utf-8").partition("\n\n")[2]
    assert "Not for **everything**, she said" in body
    assert "for a while.  \nThen I drove home" in body  # a bare newline is a line break
    assert "## What I thought it would be" in body
    assert "- sent one on Thursday, about the *dog* of all things" in body
    assert "> It's a bridge, not a second room." in body
    assert "[Image: The bench outside the clinic](" in body  # an image kept as a link
    assert "<" not in body.replace("<https://", "")
    for shortcode in ("[caption", "[/caption]", "[gallery", "[embed"):
        assert shortcode not in body


def test_comments_keep_their_threads_and_the_authors_mark(imported: Path):
    folder = imported / "comments" / TEXTING
    assert sorted(p.stem for p in folder.iterdir()) == [
        "wp-201",
        "wp-202",
        "wp-203",
        "wp-204",
        "wp-205",
        "wp-210",
        "wp-211",
    ]
    assert "replyto" not in metadata(folder / "wp-201.md")
    assert metadata(folder / "wp-202.md")["replyto"] == "wp-201"
    assert metadata(folder / "wp-203.md")["replyto"] == "wp-202"
    # Its parent was never approved: the reply stays, as a top-level comment.
    assert "replyto" not in metadata(folder / "wp-210.md")
    assert metadata(folder / "wp-202.md")["author_role"] == "author"  # by user id
    # Typed her email while logged out: anyone could have (issue 12), so no badge.
    assert "author_role" not in metadata(folder / "wp-211.md")
    assert "author_role" not in metadata(folder / "wp-201.md")
    assert metadata(folder / "wp-201.md")["likes"] == "3"
    assert metadata(folder / "wp-201.md")["date"] == "2016-03-16T15:00:00+00:00"
    assert "website" not in metadata(folder / "wp-204.md")  # javascript: was dropped
    # The comment allow-list has no images: the tracking pixel is gone, not made a link.
    assert "tracker.example.com" not in (folder / "wp-205.md").read_text(encoding="utf-8")


def test_left_out_items_and_comments_are_nowhere_in_content(imported: Path):
    text = "\n".join(p.read_text(encoding="utf-8") for p in imported.rglob("*.md"))
    for marker in LEFT_OUT_MARKERS:
        assert marker not in text
    assert not (imported / "pages" / "home.md").exists()
    assert not (imported / "bench.md").exists()
    # Pingbacks are kept apart from the comments, as the post's mentions.
    assert metadata(imported / f"{TEXTING}.md")["Mentions"] == (
        "https://another-small-blog.example.org/2016/03/bridges/"
    )


def test_links_to_the_old_blog_point_at_the_new_site(imported: Path):
    rules = (imported / "the-rules-we-settled-on.md").read_text(encoding="utf-8")
    assert f"[I first texted her]({{filename}}/{TEXTING}.md)" in rules  # was a ?p=101 link
    comment = (imported / "comments" / "the-rules-we-settled-on" / "wp-220.md").read_text()
    assert f"[the first post](/2016/03/{TEXTING}/)" in comment
    texting = (imported / f"{TEXTING}.md").read_text(encoding="utf-8")
    assert "({filename}/when-she-went-on-leave.md#comment-wp-301)" in texting
    assert "(https://www.example.com/reading)" in texting  # other sites' links stay


def test_an_opening_update_note_becomes_metadata(imported: Path):
    post = metadata(imported / f"{TEXTING}.md")
    assert post["Note_date"] == "2017-10-09"
    assert post["Followup"] == "the-rules-we-settled-on"
    assert post["Note"].startswith("I wrote this when we had only just started texting")
    body = (imported / f"{TEXTING}.md").read_text(encoding="utf-8").partition("\n\n")[2]
    assert "Note added" not in body


def test_no_email_ip_or_password_in_content(imported: Path):
    assert PRIVATE_VALUES  # the export does carry them
    for path in imported.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8").lower()
            for value in PRIVATE_VALUES:
                assert value.lower() not in text, f"{value} leaked into {path}"


# --- the built site ------------------------------------------------------------------------


def test_the_built_post_shows_the_conversation_threaded(built: Path):
    page = read_html(built / "2016" / "03" / TEXTING / "index.html")
    # Three deep: 203 sits in 202's thread, which sits in 201's.
    assert thread_of(page, "wp-202").find("article", id="comment-wp-203") is not None
    assert thread_of(page, "wp-201").find("article", id="comment-wp-202") is not None
    assert thread_of(page, "wp-201").find("article", id="comment-wp-203") is not None
    # Top-level comments are not inside one another's threads.
    for top in ("wp-201", "wp-204", "wp-205", "wp-210"):
        for other in ("wp-201", "wp-204", "wp-205", "wp-210"):
            if top != other:
                assert thread_of(page, top).find("article", id=f"comment-{other}") is None
    assert "Tomás Ñúñez" in comment_article(page, "wp-204").get_text()
    assert "心の橋" in comment_article(page, "wp-204").get_text()
    juniper = comment_article(page, "wp-201")
    assert juniper.find("strong", string="no") is not None  # comment HTML kept, made safe
    assert "Liked by 3 people" in juniper.get_text()
    assert "Author" in comment_article(page, "wp-202").get_text()


def test_the_built_site_shows_nothing_left_out(built: Path):
    for path in built.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json"):
            text = path.read_text(encoding="utf-8")
            for marker in LEFT_OUT_MARKERS:
                assert marker not in text, f"{marker} is in {path}"
    page = read_html(built / "2016" / "03" / TEXTING / "index.html")
    assert page.find(id="comment-wp-206") is None  # spam
    assert page.find(id="comment-wp-209") is None  # pingback


def test_the_built_site_has_no_private_data(built: Path):
    for path in built.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8").lower()
            for value in PRIVATE_VALUES:
                assert value.lower() not in text, f"{value} leaked into {path}"


def test_nothing_executable_reaches_a_page(built: Path):
    page = read_html(built / "2016" / "03" / TEXTING / "index.html")
    injected = comment_article(page, "wp-205")
    assert "Interesting point about bridges." in injected.get_text()
    assert "<script> in words" in injected.get_text()  # escaped text is still shown
    assert injected.find("script") is None and injected.find("img") is None
    for path in built.rglob("*.html"):
        soup = read_html(path)
        for element in soup.find_all(True):
            assert not [a for a in element.attrs if a.lower().startswith("on")], path
            for attribute in ("href", "src", "action"):
                value = str(element.get(attribute, "")).strip().lower()
                assert not value.startswith("javascript:"), (path, element)
                # data: is only the theme's empty favicon, never a link or a script.
                if element.name in ("a", "script", "iframe", "img", "form"):
                    assert not value.startswith("data:"), (path, element)
        for script in soup.find_all("script"):
            assert "alert(" not in script.get_text()
            assert not script.get("src", "/").startswith(("http:", "https:", "//"))
        assert "alert('stolen')" not in path.read_text(encoding="utf-8")


def test_the_built_site_keeps_closed_comments_closed_and_notes_linked(built: Path):
    leave = read_html(built / "2016" / "08" / "when-she-went-on-leave" / "index.html")
    assert leave.find("article", id="comment-wp-302") is not None
    assert leave.find("form", id="commentform") is None
    texting = read_html(built / "2016" / "03" / TEXTING / "index.html")
    main = texting.find("main")
    assert main.find("a", href="/2017/10/the-rules-we-settled-on/") is not None
    assert "Note added October 2017" in main.get_text()
    assert main.find("a", href="/2016/08/when-she-went-on-leave/#comment-wp-301") is not None
    # Images stay on the old host as links: the new page loads nothing from it.
    assert main.find("img") is None
    about = read_html(built / "about" / "index.html")
    assert about.find("a", href=f"/2016/03/{TEXTING}/") is not None


# --- safety: bad files, reruns, the author's edits -----------------------------------------


@pytest.mark.parametrize("cut", [200, 3000, 9000, -40])
def test_a_truncated_export_writes_nothing(tmp_path: Path, cut: int):
    broken = tmp_path / "export.xml"
    broken.write_bytes(EXPORT.read_bytes()[:cut])
    content = tmp_path / "content"
    (content / "pages").mkdir(parents=True)
    (content / "mine.md").write_text("Title: Mine\n\nKeep me.\n")
    before = folder_files(content)
    with pytest.raises(WXRError, match=r"not a complete, well-formed WordPress export.*line \d+"):
        import_into(content, source=broken)
    assert folder_files(content) == before
    assert sorted(p.name for p in content.iterdir()) == ["mine.md", "pages"]


def test_an_export_that_is_not_wordpress_or_is_unsafe_is_refused(tmp_path: Path):
    content = tmp_path / "content"
    rss = tmp_path / "feed.xml"
    rss.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    with pytest.raises(WXRError, match="no wp:wxr_version"):
        import_into(content, source=rss)
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel>&b;</channel></rss>'
    )
    with pytest.raises(WXRError, match="unsafe"):
        import_into(content, source=bomb)
    with pytest.raises(WXRError, match="cannot read"):
        import_into(content, source=tmp_path / "missing.xml")
    assert not content.exists()


def test_a_bad_value_names_the_item(tmp_path: Path):
    broken = tmp_path / "export.xml"
    text = EXPORT.read_text(encoding="utf-8")
    broken.write_text(text.replace("<wp:comment_parent>201<", "<wp:comment_parent>two<"))
    with pytest.raises(WXRError, match=r"post 101\), comment 202: wp:comment_parent"):
        import_into(tmp_path / "content", source=broken)
    assert not (tmp_path / "content").exists()


def test_running_it_again_gives_the_same_files(tmp_path: Path):
    content = tmp_path / "content"
    first = import_into(content)
    files = folder_files(content)
    second = import_into(content)
    assert folder_files(content) == files
    assert first.files.created and not first.files.unchanged
    assert not second.files.created and not second.files.updated
    assert len(second.files.unchanged) == len(first.files.created)
    assert MANIFEST_NAME in files


def test_the_authors_edits_are_kept_unless_forced(tmp_path: Path):
    content = tmp_path / "content"
    import_into(content)
    post = content / f"{TEXTING}.md"
    edited = post.read_text(encoding="utf-8") + "\nA line I added after the move.\n"
    post.write_text(edited, encoding="utf-8")
    removed = content / "comments" / TEXTING / "wp-205.md"
    removed.unlink()

    again = import_into(content)
    assert post.read_text(encoding="utf-8") == edited
    assert not removed.exists()
    assert again.files.kept_edited == [f"{TEXTING}.md"]
    assert again.files.kept_deleted == [f"comments/{TEXTING}/wp-205.md"]
    summary = "\n".join(again.lines())
    assert f"kept {TEXTING}.md: you changed it" in summary

    forced = import_into(content, force=True)
    assert "A line I added" not in post.read_text(encoding="utf-8")
    assert removed.exists()
    assert f"{TEXTING}.md" in forced.files.updated


def test_a_hand_written_file_in_the_way_is_not_overwritten(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    mine = content / f"{TEXTING}.md"
    mine.write_text("Title: Texting my therapist\nDate: 2016-03-14\n\nMy own version.\n")
    summary = import_into(content)
    assert mine.read_text().endswith("My own version.\n")
    assert summary.files.kept_edited == [f"{TEXTING}.md"]


def test_the_summary_says_what_came_in_and_what_was_left_out(imported: Path, tmp_path: Path):
    summary = import_into(tmp_path / "content")
    text = "\n".join(summary.lines())
    assert "posts: 5 (1 as drafts)" in text
    assert "pages: 1" in text
    assert "comments: 10 on 3 posts" in text
    assert "comments on pages: 1 on 1 pages" in text
    for reason in (
        "1 spam comments",
        "1 pending comments",
        "1 trashed comments",
        "1 attachments",
        "1 menu items",
        "1 password-protected posts",
    ):
        assert reason in text
    assert "on pages (" not in text  # a page's comments are no longer left out


def test_the_invoke_task_imports_and_fails_cleanly(tmp_path: Path):
    content = tmp_path / "content"
    invoke = [sys.executable, "-m", "invoke", "import-wordpress"]
    result = subprocess.run(
        [*invoke, str(EXPORT), "--content", str(content)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "comments: 10 on 3 posts" in result.stdout
    assert (content / "comments" / TEXTING / "wp-203.md").exists()

    broken = tmp_path / "cut.xml"
    broken.write_bytes(EXPORT.read_bytes()[:5000])
    result = subprocess.run(
        [*invoke, str(broken), "--content", str(tmp_path / "other")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Nothing was written" in result.stderr
    assert not (tmp_path / "other").exists()


# --- a self-hosted blog's export ----------------------------------------------------------

SELF_HOSTED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.1/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.1/">
<channel>
 <title>Small Hours</title>
 <link>https://www.example.org/blog</link>
 <wp:wxr_version>1.1</wp:wxr_version>
 <wp:base_site_url>https://www.example.org</wp:base_site_url>
 <wp:base_blog_url>https://www.example.org/blog</wp:base_blog_url>
 <wp:author><wp:author_id>2</wp:author_id><wp:author_login>ines</wp:author_login>
  <wp:author_email>ines.private@example.org</wp:author_email>
  <wp:author_display_name><![CDATA[Inès]]></wp:author_display_name></wp:author>
 <item>
  <title>The first winter</title>
  <link>https://www.example.org/blog/2015/01/05/the-first-winter/</link>
  <dc:creator>ines</dc:creator>
  <guid isPermaLink="false">https://www.example.org/blog/?p=5</guid>
  <content:encoded><![CDATA[<strong>Update 3 February 2015: I kept going, and wrote about
<a href="/blog/2015/02/03/the-second-winter/">what the second month was like</a>.</strong>

Winter sessions start in the dark and end in the dark.
See <a href="http://example.org/blog/?p=6">the next one</a> too.]]></content:encoded>
  <wp:post_id>5</wp:post_id>
  <wp:post_date>2015-01-05 18:00:00</wp:post_date>
  <wp:comment_status>open</wp:comment_status>
  <wp:post_name>the-first-winter</wp:post_name>
  <wp:status>publish</wp:status>
  <wp:post_type>post</wp:post_type>
  <wp:comment>
   <wp:comment_id>9</wp:comment_id>
   <wp:comment_author>Inès</wp:comment_author>
   <wp:comment_author_email>someone.else@example.org</wp:comment_author_email>
   <wp:comment_date>2015-01-06 09:00:00</wp:comment_date>
   <wp:comment_date_gmt>0000-00-00 00:00:00</wp:comment_date_gmt>
   <wp:comment_content>Back after <a
    href="https://www.example.org/blog/2015/02/03/the-second-winter/#comment-12"
    >a month</a>.</wp:comment_content>
   <wp:comment_approved>1</wp:comment_approved>
   <wp:comment_type></wp:comment_type>
   <wp:comment_parent>0</wp:comment_parent>
   <wp:comment_user_id>2</wp:comment_user_id>
  </wp:comment>
 </item>
 <item>
  <title>The second winter</title>
  <link>https://www.example.org/blog/2015/02/03/the-second-winter/</link>
  <dc:creator>ines</dc:creator>
  <content:encoded>Shorter days, longer sessions.</content:encoded>
  <wp:post_id>6</wp:post_id>
  <wp:post_date>2015-02-03 18:00:00</wp:post_date>
  <wp:post_name>the-second-winter</wp:post_name>
  <wp:status>publish</wp:status>
  <wp:post_type>post</wp:post_type>
 </item>
</channel>
</rss>
"""


def test_a_self_hosted_export_with_relative_links(tmp_path: Path):
    source = tmp_path / "export.xml"
    source.write_text(SELF_HOSTED, encoding="utf-8")
    content = tmp_path / "content"
    summary = import_into(content, source=source)
    assert summary.posts == 2 and summary.comments == 1
    # This comment's HTML is bare XML, not CDATA as WordPress writes it: kept all the same.

    first = metadata(content / "the-first-winter.md")
    assert first["Author"] == "Inès"
    assert first["Note_date"] == "2015-02-03"
    assert first["Followup"] == "the-second-winter"
    body = (content / "the-first-winter.md").read_text(encoding="utf-8")
    assert "[the next one]({filename}/the-second-winter.md)" in body  # http, no www, ?p=6
    assert "Update 3 February" not in body

    comment = content / "comments" / "the-first-winter" / "wp-9.md"
    assert metadata(comment)["author_role"] == "author"  # by user id; the email differs
    assert metadata(comment)["date"] == "2015-01-06T09:00:00"  # local time: no UTC copy
    assert "(/2015/02/the-second-winter/#comment-wp-12)" in comment.read_text(encoding="utf-8")

    output = tmp_path / "output"
    result = run_pelican(content, output)
    assert result.returncode == 0, result.stdout + result.stderr
    page = read_html(output / "2015" / "01" / "the-first-winter" / "index.html")
    assert page.find("article", id="comment-wp-9") is not None
    assert page.find("a", href="/2015/02/the-second-winter/") is not None


def test_a_damaged_manifest_stops_the_import_before_anything_is_written(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    (content / MANIFEST_NAME).write_text("{ not json")
    with pytest.raises(ValueError, match="import manifest is damaged"):
        import_into(content)
    assert sorted(p.name for p in content.iterdir()) == [MANIFEST_NAME]


def test_files_outside_the_content_folder_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="outside the content folder"):
        write_files(tmp_path / "content", {"../escaped.md": "Title: x\n"})
    assert not (tmp_path / "escaped.md").exists()


# --- comments on pages -------------------------------------------------------------------


def test_a_pages_approved_comments_come_across_and_open_its_comments(imported: Path):
    page = metadata(imported / "pages" / "about.md")
    assert page["Comments"] == "open"
    comment = imported / "comments" / "about" / "wp-401.md"
    assert metadata(comment)["author"] == "Page Visitor"
    assert comment.read_text(encoding="utf-8").endswith(
        "\n\nI found this page before any of the posts. Thank you for saying *why* you write; "
        "it made me read the rest.\n"
    )


def test_the_built_page_shows_its_comment(built: Path):
    about = read_html(built / "about" / "index.html")
    comment = comment_article(about, "wp-401")
    assert "Thank you for saying why you write" in " ".join(comment.get_text().split())
