"""Comment bodies against hostile input: nothing executable may reach a page.

Each payload goes through render_comment_markdown (what a comment file's body meets) and,
when it is HTML, through sanitize_html (what the WordPress importer uses); the result is
parsed as a browser would and checked for anything that could run or load.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from hypothesis import example, given, settings
from hypothesis import strategies as st
from threaded_comments.rendering import (
    ALLOWED_TAGS,
    cmark_renders_alike,
    render_comment_markdown,
    render_full,
    sanitize_html,
)

from tests.support.site import read_html, run_pelican

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>click</a>",
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">entity</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab entity</a>',
    '<a href=" javascript:alert(1)">leading space</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="https://ok.example" onclick="alert(1)">ok link, bad handler</a>',
    '<a href="https://ok.example" style="position:fixed;top:0">styled</a>',
    "[markdown link](javascript:alert(1))",
    "[markdown data](data:text/html,<script>alert(1)</script>)",
    "[entity link](&#106;avascript:alert(1))",
    "[vb](vbscript:msgbox(1))",
    "![image](https://evil.example/track.png)",
    '![x](x" onerror="alert(1))',
    "<https://ok.example/auto>",
    "<javascript:alert(1)>",
    "<style>body{display:none}</style>",
    '<p style="color:red">styled paragraph</p>',
    '<div onmouseover="alert(1)">hover</div>',
    "<b onclick=alert(1)>bold</b><i>italic</i>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "'';!--\"<XSS>=&{()}",
    "<a href='https://ok.example'>unterminated",
    "<!-- <script>alert(1)</script> -->",
    "<form action=https://evil.example><input name=x></form>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
    "<base href=https://evil.example/>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<blockquote><blockquote><blockquote><em><strong>deep</strong></em>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="mailto:someone@example.org" onmouseover=alert(1)>mail</a>',
]

BAD_URL_SCHEMES = re.compile(r"^\s*(javascript|data|vbscript|file):", re.IGNORECASE)


def assert_inert(html: str) -> BeautifulSoup:
    """Fail if `html`, parsed as a browser would, holds anything that could run or load."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in ALLOWED_TAGS, (tag.name, html)
        allowed = {"href", "rel"} if tag.name == "a" else set()
        assert set(tag.attrs) <= allowed, (tag.attrs, html)
        if tag.name == "a" and tag.has_attr("href"):
            href = tag["href"]
            assert not BAD_URL_SCHEMES.match(href), href
            assert urlsplit(href).scheme in {"http", "https", "mailto"}, href
            assert tag["rel"] == ["nofollow", "ugc", "noopener"]
    # Belt and braces: no tag of these opens anywhere (as text they would read "&lt;...").
    lowered = html.lower()
    for marker in ("<script", "<style", "<svg", "<math", "<iframe", "<img", "<object"):
        assert marker not in lowered, (marker, html)
    return soup


def test_the_corpus_is_big_enough():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("payload", HOSTILE)
def test_rendered_markdown_is_inert(payload):
    assert_inert(render_comment_markdown(payload))


@pytest.mark.parametrize("payload", HOSTILE)
def test_sanitized_html_is_inert(payload):
    assert_inert(sanitize_html(payload))


def test_raw_html_in_markdown_shows_as_text_not_markup():
    html = render_comment_markdown("I typed <b>bold</b> & <3 by hand.")
    assert html == "<p>I typed &lt;b&gt;bold&lt;/b&gt; &amp; &lt;3 by hand.</p>"


def test_code_spans_and_blocks_keep_their_text():
    soup = assert_inert(
        render_comment_markdown(
            "Try `<script>alert(1)</script>` and:\n\n```\n<img src=x onerror=alert(1)>\n```"
        )
    )
    assert soup.code.get_text() == "<script>alert(1)</script>"
    assert soup.pre.code.get_text() == "<img src=x onerror=alert(1)>\n"


def test_allowed_markdown_survives():
    soup = assert_inert(
        render_comment_markdown(
            "*em* **strong**\n\n> quoted\n\n- one\n- two\n\n1. first\n\n"
            "[a link](https://example.org/page) and [mail](mailto:me@example.org)"
        )
    )
    assert soup.em.get_text() == "em"
    assert soup.strong.get_text() == "strong"
    assert soup.blockquote.get_text(strip=True) == "quoted"
    assert [li.get_text() for li in soup.ul.find_all("li")] == ["one", "two"]
    assert soup.ol.li.get_text() == "first"
    links = {a.get_text(): a["href"] for a in soup.find_all("a")}
    assert links == {"a link": "https://example.org/page", "mail": "mailto:me@example.org"}


def test_headings_and_rules_read_as_plain_paragraphs():
    assert render_comment_markdown("# Not a heading\n\n---") == (
        "<p># Not a heading</p>\n<p>---</p>"
    )


PLAIN_TEXT = st.text(
    alphabet=st.sampled_from("abcdefgh XYZ.,;:'\"?()/%$@-0123456789\né—’"),
    max_size=120,
)


@settings(max_examples=400, deadline=None)
@given(PLAIN_TEXT)
def test_fast_path_renders_exactly_as_markdown_does(text):
    assert render_comment_markdown(text) == render_full(text)


# Paragraphs as readers write them: plain prose, and Markdown of every block and inline
# kind the allow-list keeps, including what reaches across a blank line (indented
# continuations, lists that turn loose, fences, reference definitions).
PARAGRAPHS = st.one_of(
    PLAIN_TEXT.filter(lambda text: "\n\n" not in text),
    st.sampled_from(
        [
            "This, *exactly*: the waiting.",
            "> She said it once.\n> And again.",
            "> quoted\nlazy line",
            "- one\n- two",
            "1. first\n2. second",
            "2) later",
            "  indented continuation",
            "    code block line",
            "See [my notes](https://notes.example.org/x) and <https://example.org>.",
            "Use `code` & **strong** \\*not em\\*.",
            "```\nfenced",
            "~~~",
            "[ref]: https://example.org/ref",
            "A [ref] link.",
            "hard  \nbreak",
            "   ",
            "# not a heading",
            "---",
            "text\n===",
            "&amp; &#60; &copy;",
            "<b>typed tags</b>",
            "\tTabbed",
        ]
    ),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(PARAGRAPHS, max_size=6), st.sampled_from(["\n\n", "\n\n\n", "\n"]))
# An empty list item ends its list at the second blank line, not the first.
@example(["-", "-"], "\n\n\n")
@example(["-", "-"], "\n\n")
@example(["Plain words.", "- one", "- two", "Plain again."], "\n\n\n")
def test_mixed_bodies_render_exactly_as_markdown_does(paragraphs, separator):
    text = separator.join(paragraphs)
    assert render_comment_markdown(text) == render_full(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab *_>-1.) \n`[]:&#\\<"), max_size=80))
def test_markdown_heavy_text_renders_exactly_as_markdown_does(text):
    assert render_comment_markdown(text) == render_full(text)


# Pieces of the Markdown readers write, in ASCII: where cmark stands in for markdown-it-py,
# and the edges of what it is trusted with (lines of marks only, indents, trailing spaces,
# autolinks, titles, emails, nested quotes and lists).
MARKDOWN_PIECES = st.lists(
    st.sampled_from(
        [
            *"ab *_>-1.) \n[]():\"'/hts+|$%^{}?,;@9AZ",
            *["https://x.y", "](", "  \n", "    ", "\n\n", "1. ", "- ", "> ", "[a]", "x@y.z"],
            *["www.x.y", "http://a.b/(c)", '"t"', "\n    ", "* ", "+ ", "2) ", "***", "__"],
            *["javascript:", "VbScript:", "data:", "file:", "ftp://a", "mailto:a@b.c"],
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(MARKDOWN_PIECES)
@example("This, *exactly*: the waiting.\n\n> She said it once.\n\n- one\n- two")
def test_markdown_through_cmark_renders_exactly_as_markdown_it_does(text):
    assert render_comment_markdown(text) == render_full(text)


def test_the_markdown_readers_usually_write_goes_through_cmark():
    """So that the property test above compares the two renderers, not one with itself."""
    assert cmark_renders_alike("This, *exactly*: [my notes](https://x.example/1).")
    assert cmark_renders_alike("> A quote.\n\n- one\n- two\n\n1. first")
    for text in ["<b>x</b>", "# x", "x\n---", "![x](y)", "`x`", "a\\*b", "&amp;", "caf\u00e9"]:
        assert not cmark_renders_alike(text), text
    for text in ["[x](javascript:alert(1))", "[x](DATA:text/html,x)", "[x](file:///etc)"]:
        assert not cmark_renders_alike(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_renders_inert(text):
    html = render_comment_markdown(text)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in ALLOWED_TAGS
        assert set(tag.attrs) <= ({"href", "rel"} if tag.name == "a" else set())


def test_hostile_comment_files_build_into_an_inert_page(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "post.md").write_text(
        "Title: A post\nDate: 2016-03-14 20:00\nSlug: a-post\n\nText.\n", encoding="utf-8"
    )
    folder = content / "comments" / "a-post"
    folder.mkdir(parents=True)
    for number, payload in enumerate(HOSTILE):
        (folder / f"h{number:02d}.md").write_text(
            f"author: <b onclick=alert(1)>Mallory</b>\ndate: 2016-03-15T10:00:00+00:00\n"
            f"website: javascript:alert(1)//mallory.example\n\n{payload}\n",
            encoding="utf-8",
        )
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode != 0
    assert "website must be an http or https URL" in result.stdout + result.stderr
    for path in folder.iterdir():
        path.write_text(
            path.read_text().replace("javascript:alert(1)//", "https://", 1), encoding="utf-8"
        )
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode == 0, result.stdout + result.stderr
    page = read_html(tmp_path / "output/2016/03/a-post/index.html")
    comments = page.select("article.comment")
    assert len(comments) == len(HOSTILE)
    for item in comments:
        assert_inert(item.select_one(".comment-content").decode_contents())
        author = item.select_one(".comment-author a")
        assert author.get_text() == "<b onclick=alert(1)>Mallory</b>"
        assert author.find("b") is None
    section = page.select_one("section#comments")
    assert section.find("script", src=False) is None
    assert all(script["src"].startswith("/theme/js/") for script in section("script"))
