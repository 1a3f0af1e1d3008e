"""Comment bodies: Markdown to HTML, then an nh3 allow-list. Nothing else reaches a page.

Raw HTML in a comment is shown as text (Markdown's HTML is switched off), and the
sanitiser runs after Markdown anyway, so a renderer bug cannot smuggle markup through.
markdown-it-py is the renderer; cmark (cmarkgfm, in C) stands in for it on the Markdown
that readers usually write, where it makes the same HTML some thirty times quicker.
"""

from __future__ import annotations

import re

import cmarkgfm
import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "a", "blockquote", "code", "pre", "ul", "ol", "li"}
)
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Characters XML 1.0 cannot carry, even escaped (nor HTML, where they are parse errors):
# one of them in a feed makes the whole feed invalid, whatever a hand-written or imported
# comment file holds. A rendered body never holds them, so the feeds need not look again.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LINK_REL = "nofollow ugc noopener"

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Their text is code or markup, never prose worth keeping.
    clean_content_tags={"script", "style", "svg", "math", "template", "noscript", "title"},
    attributes={"a": {"href"}},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)

# CommonMark without raw HTML; the block types the allow-list drops are switched off so
# that their text reads as a paragraph instead of losing its shape.
_markdown = MarkdownIt("commonmark", {"html": False}).disable(
    ["heading", "lheading", "hr", "image"]
)

# Anything that could make Markdown do more than wrap a paragraph sends it through
# Markdown: these characters anywhere, and a line that starts or ends with a space, starts
# with "-" or reads like "1." or "1)" (list items). Non-printable characters (tabs, NBSP,
# other separators) are caught by str.isprintable() instead.
_MARKDOWN_CHARACTERS = "\\`*_[]<>&#!|~=+"
_MARKDOWN_LINE = re.compile(r"[ \-]|\d+[.)]")


# Where cmark renders otherwise than _markdown, it is not used: raw HTML (cmark drops it,
# _markdown shows it as text), the block types _markdown switches off (headings, rules and
# setext underlines, which are lines of marks only, and images), and the corners where the
# two follow different versions of CommonMark: code spans and fences, backslash escapes,
# entities, reference definitions, indented lines, tabs, control and non-ASCII characters,
# runs of three or more emphasis marks (nested the one way or the other), and links other
# than [text](http(s)://address) (a scheme both refuse is text to markdown-it but an empty
# link to cmark, and the two read some odd destinations differently). Property tests hold
# render_comment_markdown, which uses cmark, equal to render_full, which never does.
_NOT_FOR_CMARK = "<#=!&\\`~"
_MARKS_ONLY_LINE = re.compile(r"^[ >*_+\-0-9.)]+$", re.MULTILINE)
_PLAIN_LINK_END = re.compile(r"\]\(https?://[^\s()\[\]<>\"']*\)")


def cmark_renders_alike(text: str) -> bool:
    """Whether cmark makes of this Markdown the HTML that markdown-it-py makes."""
    if not text.isascii() or not text.replace("\n", "").isprintable():
        return False
    if "]:" in text or "***" in text or "___" in text or "\n " in text or text[:1] == " ":
        return False
    for character in _NOT_FOR_CMARK:
        if character in text:
            return False
    if text.count("](") != len(_PLAIN_LINK_END.findall(text)):
        return False
    return _MARKS_ONLY_LINE.search(text) is None


def sanitize_html(html: str) -> str:
    """Apply the comment allow-list to HTML: safe tags kept, links made nofollow/ugc."""
    return _cleaner.clean(html).strip()


def _is_plain(paragraph: str) -> bool:
    """Whether Markdown would only wrap this paragraph in <p>; given a whole body, whether
    it would only wrap each of its paragraphs (a blank line is a printable empty line)."""
    # One `in` per character: each is a memchr, four times quicker than a regex class.
    for character in _MARKDOWN_CHARACTERS:
        if character in paragraph:
            return False
    for line in paragraph.split("\n"):
        if not line.isprintable() or line.endswith(" ") or _MARKDOWN_LINE.match(line):
            return False
    return True


def _crosses_blank_lines(text: str) -> bool:
    """Whether some Markdown in the text may reach across a blank line: a fence, an
    indented line (code, or a list item going on), a reference definition."""
    return (
        "```" in text
        or "~~~" in text
        or "]:" in text
        or text.startswith((" ", "\t"))
        or "\n " in text
        or "\n\t" in text
    )


def _normalise_newlines(text: str) -> str:
    # One look for the common case, not two replacements that find nothing.
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def render_comment_markdown(text: str) -> str:
    """A comment body (Markdown) as safe HTML.

    Most comments are plain prose, and most of the others have one paragraph of Markdown
    among plain ones. Plain paragraphs are wrapped in <p> as Markdown would, and only runs
    of the others go through Markdown and the sanitiser, a few times quicker than the whole
    body. Property tests hold the result equal to render_full's.
    """
    text = _normalise_newlines(text)
    if not text.strip():
        return ""
    # Plain prose throughout, as most comments are: one look at the whole body. Whatever
    # could reach across a blank line (_crosses_blank_lines) is never plain.
    if _is_plain(text):
        return "\n".join(
            f"<p>{part}</p>" for piece in text.split("\n\n") if (part := piece.strip("\n"))
        )
    if _crosses_blank_lines(text):
        return _render_markdown(text)
    html: list[str] = []
    # Pieces of a run of Markdown paragraphs, as written: how many blank lines part them
    # can matter (an empty list item ends its list at the second).
    markdown_run: list[str] = []
    # str.split, at a tenth of a regex split's cost; three or more newlines in a row leave
    # an empty piece or one that starts with a newline.
    for piece in text.split("\n\n"):
        paragraph = piece.strip("\n")
        if paragraph and _is_plain(paragraph):
            if markdown_run:
                html.append(_render_markdown("\n\n".join(markdown_run)))
                markdown_run = []
            html.append(f"<p>{paragraph}</p>")
        elif paragraph or markdown_run:
            markdown_run.append(piece)
    if markdown_run:
        html.append(_render_markdown("\n\n".join(markdown_run)))
    return "\n".join(part for part in html if part)


def _render_markdown(text: str) -> str:
    """Markdown (newlines normalised) as safe HTML, through cmark where it renders alike.

    Nothing XML refuses reaches the result: cmark takes printable text only, as plain
    paragraphs are, and render_full drops those characters first."""
    if cmark_renders_alike(text):
        return sanitize_html(cmarkgfm.markdown_to_html(text))
    return render_full(text)


def render_full(text: str) -> str:
    """Always the full Markdown path; the reference the fast path is tested against."""
    return sanitize_html(_markdown.render(NOT_IN_XML.sub("", _normalise_newlines(text))))
