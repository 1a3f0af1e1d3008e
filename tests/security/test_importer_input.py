"""Threat: an export (edited, or from an untrusted source) that forges the author's badge,
stops the build with a reply cycle, or crashes the importer with deep HTML (issue 12,
items 7 and 8). Through `import_wordpress`, then a real Pelican build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.importers.wordpress import import_wordpress
from moderation.importers.wxr import WXRError
from moderation.settings import load_settings
from tests.support.site import PROJECT_ROOT, run_pelican

SETTINGS = load_settings(PROJECT_ROOT / "pelicanconf.py", environ={})


def comment(number: int, parent: int, user_id: int, email: str, text: str) -> str:
    return f"""
  <wp:comment>
   <wp:comment_id>{number}</wp:comment_id>
   <wp:comment_author>Reader {number}</wp:comment_author>
   <wp:comment_author_email>{email}</wp:comment_author_email>
   <wp:comment_date>2015-01-0{number} 09:00:00</wp:comment_date>
   <wp:comment_date_gmt>2015-01-0{number} 09:00:00</wp:comment_date_gmt>
   <wp:comment_content><![CDATA[{text}]]></wp:comment_content>
   <wp:comment_approved>1</wp:comment_approved>
   <wp:comment_type></wp:comment_type>
   <wp:comment_parent>{parent}</wp:comment_parent>
   <wp:comment_user_id>{user_id}</wp:comment_user_id>
  </wp:comment>"""


def export(tmp_path: Path, post_html: str, comments: str) -> Path:
    source = tmp_path / "export.xml"
    source.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.1/">
<channel>
 <title>Small Hours</title>
 <link>https://small-hours.example.org</link>
 <wp:wxr_version>1.2</wp:wxr_version>
 <wp:base_site_url>https://small-hours.example.org</wp:base_site_url>
 <wp:base_blog_url>https://small-hours.example.org</wp:base_blog_url>
 <wp:author><wp:author_id>2</wp:author_id><wp:author_login>ines</wp:author_login>
  <wp:author_email>ines@small-hours.example.org</wp:author_email>
  <wp:author_display_name>Ines</wp:author_display_name></wp:author>
 <item>
  <title>The first winter</title>
  <link>https://small-hours.example.org/2015/01/05/the-first-winter/</link>
  <dc:creator>ines</dc:creator>
  <content:encoded><![CDATA[{post_html}]]></content:encoded>
  <wp:post_id>5</wp:post_id>
  <wp:post_date>2015-01-01 08:00:00</wp:post_date>
  <wp:comment_status>open</wp:comment_status>
  <wp:post_name>the-first-winter</wp:post_name>
  <wp:status>publish</wp:status>
  <wp:post_type>post</wp:post_type>{comments}
 </item>
</channel>
</rss>
""",
        encoding="utf-8",
    )
    return source


def meta(path: Path) -> dict[str, str]:
    head = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    return dict(line.split(": ", 1) for line in head.splitlines())


def test_the_author_badge_goes_by_wordpress_account_never_by_typed_email(tmp_path):
    source = export(
        tmp_path,
        "Winter sessions start in the dark.",
        comment(1, 0, 2, "someone@example.net", "Logged in as the author.")
        + comment(2, 0, 0, "ines@small-hours.example.org", "I am the author, honestly."),
    )
    import_wordpress(source, SETTINGS, content_dir=tmp_path / "content")

    folder = tmp_path / "content" / "comments" / "the-first-winter"
    assert meta(folder / "wp-1.md").get("author_role") == "author"
    assert "author_role" not in meta(folder / "wp-2.md")


def test_comments_replying_to_each_other_are_imported_and_the_site_builds(tmp_path):
    source = export(
        tmp_path,
        "Winter sessions start in the dark.",
        comment(1, 0, 0, "a@example.net", "Top of the thread.")
        + comment(2, 3, 0, "b@example.net", "I answer three.")
        + comment(3, 2, 0, "c@example.net", "And I answer two.")
        + comment(4, 4, 0, "d@example.net", "I answer myself."),
    )
    content = tmp_path / "content"
    summary = import_wordpress(source, SETTINGS, content_dir=content)

    folder = content / "comments" / "the-first-winter"
    assert "replyto" not in meta(folder / "wp-2.md")  # the earlier of the two
    assert meta(folder / "wp-3.md")["replyto"] == "wp-2"
    assert "replyto" not in meta(folder / "wp-4.md")
    assert any("2 reply cycles broken" in line for line in summary.lines())
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fifty_thousand_nested_divs_are_a_clear_error_and_nothing_is_written(tmp_path):
    # (In a comment the sanitiser's allow-list drops the divs before anything recurses.)
    deep = "<div>" * 50_000 + "deep" + "</div>" * 50_000
    source = export(tmp_path, deep, comment(1, 0, 0, "a@example.net", "A short comment."))
    content = tmp_path / "content"

    with pytest.raises(WXRError, match="nested too deeply"):
        import_wordpress(source, SETTINGS, content_dir=content)
    assert not content.exists()
