"""The importer's HTML-to-Markdown step on its own, checked against both Markdown renderers
its output meets: Pelican's Python-Markdown (posts) and the comments' markdown-it."""

from __future__ import annotations

import html

import markdown
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from pelican.settings import DEFAULT_CONFIG
from threaded_comments import render_comment_markdown, sanitize_html

from moderation.importers import html_to_markdown

# Characters and pieces that mean something to Markdown, HTML or WordPress.
PIECES = st.sampled_from(
    [
        *"ab é*_`[](){}<>&#!-+=.:1)|~\\\t\n",
        *("  ", "\n\n", "    ", "1. ", "# ", "> ", "---", "~~~", "```"),
        *("http://x.example", "&amp;", "<b>", "[caption]", "{: #id}"),
    ]
)
PLAIN_TEXT = st.lists(PIECES, max_size=30).map("".join)


def words(text: str) -> str:
    return " ".join(text.split())


def post_html(markdown_text: str) -> str:
    """The body as Pelican renders it: after the file's metadata header."""
    config = DEFAULT_CONFIG["MARKDOWN"]
    return markdown.markdown(
        f"Title: A post\n\n{markdown_text}",
        extensions=list(config["extension_configs"]),
        extension_configs=config["extension_configs"],
        output_format=config["output_format"],
    )


def comment_markdown(stored: str) -> str:
    return html_to_markdown.to_markdown(html_to_markdown.parse(stored, sanitize=sanitize_html))


@settings(max_examples=400, deadline=None)
@given(PLAIN_TEXT)
def test_a_readers_words_come_back_as_the_same_words_in_a_comment(text: str):
    # WordPress stores what a reader typed with < and & escaped.
    rendered = render_comment_markdown(comment_markdown(html.escape(text)))
    assert words(BeautifulSoup(rendered, "html.parser").get_text()) == words(text)


@settings(max_examples=400, deadline=None)
@given(PLAIN_TEXT)
def test_a_posts_words_come_back_as_the_same_words_in_a_post(text: str):
    converted = html_to_markdown.to_markdown(
        html_to_markdown.parse(html.escape(text), shortcodes=True)
    )
    rendered = post_html(converted)
    assert words(BeautifulSoup(rendered, "html.parser").get_text()) == words(text)


def test_autop_makes_paragraphs_and_line_breaks_like_wordpress():
    soup = html_to_markdown.parse(
        "One\ntwo\n\nThree <em>four</em>\n<blockquote>Five\n\nSix</blockquote>"
    )
    assert [str(p) for p in soup.find_all("p")] == [
        "<p>One<br/>two</p>",
        "<p>Three <em>four</em></p>",
        "<p>Five</p>",
        "<p>Six</p>",
    ]
    assert soup.find("blockquote").find_all("p")  # paragraphs inside the quote, too


def test_block_editor_markup_is_left_as_it_is_but_for_its_comments():
    stored = "<!-- wp:paragraph -->\n<p>Already a paragraph.</p>\n<!-- /wp:paragraph -->"
    assert html_to_markdown.to_markdown(html_to_markdown.parse(stored)) == "Already a paragraph.\n"


def test_shortcodes_become_what_they_showed():
    stored = (
        '[caption id="attachment_7" width="300"]<img src="https://old.example/a.jpg" '
        'alt="A kettle" /> The kettle[/caption]\n\n[gallery ids="1,2"]\n\n'
        "[embed]https://video.example/watch?v=1[/embed]\n\n[youtube https://video.example/2]"
        "\n\nA [bracketed] aside stays."
    )
    converted = html_to_markdown.to_markdown(html_to_markdown.parse(stored, shortcodes=True))
    assert "[Image: A kettle](https://old.example/a.jpg) The kettle" in converted
    assert "<https://video.example/watch?v=1>" in converted
    assert "<https://video.example/2>" in converted
    assert "gallery" not in converted and "caption" not in converted
    assert "A \\[bracketed\\] aside stays." in converted


def test_links_keep_only_safe_addresses():
    stored = (
        '<a href="javascript:alert(1)">one</a> <a href="https://ok.example/">two</a> '
        '<a href="mailto:me@example.org">three</a> <a href="data:text/html,x">four</a> '
        '<a href="/2016/03/post/">five</a> <img src="data:image/png;base64,AAAA" alt="six">'
    )
    converted = html_to_markdown.to_markdown(html_to_markdown.parse(stored))
    assert converted == (
        "one [two](https://ok.example/) [three](mailto:me@example.org) four "
        "[five](/2016/03/post/) Image: six\n"
    )


def test_a_linked_image_links_to_the_full_size_one():
    stored = '<a href="https://old.example/big.jpg"><img src="https://old.example/small.jpg"></a>'
    assert (
        html_to_markdown.to_markdown(html_to_markdown.parse(stored))
        == "[Image](https://old.example/big.jpg)\n"
    )


def test_comment_html_goes_through_the_comment_allow_list():
    stored = '<h2>Loud</h2><p onclick="x()">Quiet <img src="https://t.example/p.gif"></p>'
    converted = comment_markdown(stored)
    assert "t.example" not in converted  # the allow-list has no images
    assert "onclick" not in converted
    assert "Loud" in converted and "Quiet" in converted
