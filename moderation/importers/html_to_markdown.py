"""WordPress's stored HTML, made into clean Markdown.

WordPress keeps post and comment text the way its editor saved it: paragraphs as bare
blank lines (its `wpautop` adds the <p> tags only when it shows a page), shortcodes in
square brackets, block-editor comments around everything. This module undoes all three,
lets the caller rewrite links, then converts with markdownify.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag
from bs4.element import Comment as HTMLComment
from markdownify import MarkdownConverter

# Elements WordPress's autop never wraps in a paragraph.
BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "audio", "blockquote", "canvas", "caption", "colgroup"),
        *("dd", "details", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr"),
        *("iframe", "legend", "li", "main", "map", "math", "menu", "nav", "noscript", "object"),
        *("ol", "p", "pre", "script", "section", "style", "summary", "table", "tbody", "td"),
        *("tfoot", "th", "thead", "tr", "ul", "video"),
    }
)
# Elements whose bare text is made into paragraphs, as autop does at the top level.
PARAGRAPH_CONTAINERS = ("blockquote", "div", "section", "article", "aside", "header", "footer")
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Pelican's link to a file in the content folder: an image copied by the import.
LOCAL_PREFIX = "{static}/"

_CAPTION = re.compile(r"\[(caption|wp_caption)\b[^\]]*\](.*?)\[/\1\]", re.DOTALL)
_EMBED = re.compile(r"\[embed\b[^\]]*\]\s*(\S+?)\s*\[/embed\]", re.DOTALL)
_MEDIA = re.compile(
    r"\[(?:youtube|vimeo|soundcloud|audio|video)\b\s*(?:(?:src|url)=)?[\"']?(https?://[^\s\"'\]]+)"
    r"[^\]]*\](?:\[/(?:audio|video)\])?"
)
_DROPPED = re.compile(r"\[(?:gallery|playlist|slideshow)\b[^\]]*\]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
# What would start a heading, list, rule, fence, table or definition at a line's start.
_LINE_START_MARKER = re.compile(r"^(\s*)(?:([#=+~:|-])|(\d{1,9})([.)]))", re.MULTILINE)


def strip_shortcodes(text: str) -> str:
    """Replace WordPress shortcodes with what they showed: captions keep their image and
    words, embeds become links; galleries (lists of attachment ids) cannot be shown."""
    text = _CAPTION.sub(r"\2", text)
    text = _EMBED.sub(lambda m: _link_html(m.group(1)), text)
    text = _MEDIA.sub(lambda m: _link_html(m.group(1)), text)
    return _DROPPED.sub("", text)


def _link_html(url: str) -> str:
    escaped = html.escape(url)
    return f'\n\n<p><a href="{escaped}">{escaped}</a></p>\n\n'


def parse(
    fragment: str,
    *,
    shortcodes: bool = False,
    sanitize: Callable[[str], str] | None = None,
) -> BeautifulSoup:
    """Parse stored WordPress HTML with autop applied: a post's with `shortcodes` undone,
    a comment's through `sanitize` (HTML in, safe HTML out) once it has its paragraphs."""
    if shortcodes:
        fragment = strip_shortcodes(fragment)
    soup = _soup(fragment.replace("\r\n", "\n").replace("\r", "\n"))
    for remark in soup.find_all(string=lambda s: isinstance(s, HTMLComment)):
        remark.extract()  # block-editor markers and <!--more-->
    _autop(soup)
    return soup if sanitize is None else _soup(sanitize(str(soup)))


def _soup(fragment: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        # A comment that is only a URL is still a comment, not a file name by mistake.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(fragment, "html.parser")


def _autop(root: BeautifulSoup) -> None:
    for container in [root, *root.find_all(PARAGRAPH_CONTAINERS)]:
        run: list[Tag | NavigableString] = []
        for child in list(container.children):
            if isinstance(child, Tag) and child.name in BLOCK_TAGS:
                _wrap_paragraphs(root, run)
                run = []
            else:
                run.append(child)
        _wrap_paragraphs(root, run)


def _wrap_paragraphs(root: BeautifulSoup, run: list[Tag | NavigableString]) -> None:
    """Turn a run of inline nodes into paragraphs: blank lines split, single newlines break."""
    if not run or not any(
        (isinstance(n, Tag) and n.name == "img") or n.get_text().strip() for n in run
    ):
        return
    # Most comments are text alone, which needs no second parse.
    plain = all(isinstance(n, NavigableString) for n in run)
    source = "".join(
        str(n) if plain else n.output_ready() if isinstance(n, NavigableString) else str(n)
        for n in run
    )
    for piece in _BLANK_LINE.split(source.strip()):
        paragraph = root.new_tag("p")
        if plain:
            paragraph.append(NavigableString(piece.strip()))
        else:
            paragraph.extend(list(_soup(piece.strip()).contents))
        for text in paragraph.find_all(string=lambda s: "\n" in s):
            if text.find_parent(("pre", "code")) is None:
                _break_lines(root, text)
        run[0].insert_before(paragraph)
    for node in run:
        node.extract()


def _break_lines(root: BeautifulSoup, text: NavigableString) -> None:
    lines = str(text).split("\n")
    for number, line in enumerate(lines):
        if number:
            text.insert_before(root.new_tag("br"))
        text.insert_before(NavigableString(line.strip(" \t") if number else line.rstrip(" \t")))
    text.extract()


def rewrite_links(soup: BeautifulSoup, resolve: Callable[[str], str | None]) -> None:
    """Point every link for which `resolve` has a new address there; leave the rest."""
    for anchor in soup.find_all("a", href=True):
        new = resolve(anchor["href"])
        if new is not None:
            anchor["href"] = new


def is_link_target(url: str) -> bool:
    """True for addresses that may become links: http(s), mailto and site-relative paths."""
    if not url.strip():
        return False
    parts = urlsplit(url.strip())
    if parts.scheme:
        return parts.scheme.lower() in LINK_SCHEMES
    return not parts.netloc and not url.strip().startswith("//")


class _Converter(MarkdownConverter):
    """markdownify, made safe for text that goes back through a Markdown renderer."""

    def escape(self, text: str, parent_tags: set[str]) -> str:
        # Text stays text: no raw HTML, links or emphasis may appear from a reader's words.
        text = html.escape(text, quote=False).replace("|", "&#124;")
        text = re.sub(r"([\\`*_\[\]{}])", r"\\\1", text)
        return _LINE_START_MARKER.sub(_escape_marker, text)

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        href = (el.get("href") or "").strip()
        if not is_link_target(href):
            return text
        image = el.find("img")
        if image is not None and not el.get_text(strip=True):
            text = _local_image(image) or _image_label(image)
        el["href"] = _markdown_url(href)
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # Images stay where they were, as links: the new site loads nothing from the old host.
        # Only a copy in the content folder (import --download-media) is shown as an image.
        local = _local_image(el)
        if local:
            return local
        label = _image_label(el)
        src = (el.get("src") or "").strip()
        if "a" in parent_tags or not src or not is_link_target(src):
            return label
        return f"[{label}]({_markdown_url(src)})"

    def convert_iframe(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        src = (el.get("src") or "").strip()
        if not src or not is_link_target(src):
            return ""
        return f"\n\n[Embedded: {self.escape(src, parent_tags)}]({_markdown_url(src)})\n\n"


def _escape_marker(match: re.Match[str]) -> str:
    # An entity reads as the character itself in both Markdowns (Pelican's Python-Markdown
    # for posts, markdown-it for comments), where their backslash escapes differ.
    lead, mark, number, punctuation = match.groups()
    if mark:
        return f"{lead}&#{ord(mark)};"
    return f"{lead}{number}&#{ord(punctuation)};"


def _image_label(img: Tag) -> str:
    alt = " ".join((img.get("alt") or "").split())
    return f"Image: {html.escape(alt, quote=False)}" if alt else "Image"


def _local_image(img: Tag) -> str | None:
    """Markdown showing the image, when its file is a copy in the content folder: Pelican's
    {static} link, which media.point_at_copies writes; None for any other address."""
    src = (img.get("src") or "").strip()
    if not src.startswith(LOCAL_PREFIX):
        return None
    alt = re.sub(r"([\\\[\]])", r"\\\1", " ".join((img.get("alt") or "").split()))
    return f"![{html.escape(alt, quote=False)}]({_markdown_url(src)})"


def _markdown_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def to_markdown(soup: BeautifulSoup) -> str:
    """The Markdown for a parsed (and possibly rewritten) fragment, ending in one newline."""
    converted = _Converter(heading_style="atx", bullets="-")
    markdown = converted.convert_soup(soup).strip()
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return markdown + "\n" if markdown else ""


def plain_text(soup: BeautifulSoup | Tag) -> str:
    """The fragment's words on one line, for metadata such as a summary or a note."""
    return " ".join(soup.get_text(" ").split())
