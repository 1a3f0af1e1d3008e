"""Read a WordPress export (WXR: RSS 2.0 with WordPress's own namespaces) into plain data.

Parsing goes through defusedxml, so an export cannot pull in entities or external files.
Every field is read here, including the private ones (commenters' emails) that the importer
needs for its decisions; nothing here writes anything, and IP addresses are not even read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, tostring
from defusedxml.ElementTree import parse as parse_xml

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

WP_NAMESPACE_PREFIX = "http://wordpress.org/export/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
EMPTY_DATE = "0000-00-00 00:00:00"


class WXRError(ValueError):
    """The file is not a complete, well-formed WordPress export; the message says why."""


@dataclass(frozen=True)
class Author:
    """A user listed in the export's channel: the blog's own authors."""

    user_id: int
    login: str
    display_name: str
    email: str


@dataclass(frozen=True)
class WordPressComment:
    """One wp:comment, as the export has it (private fields included, IP left out)."""

    comment_id: int
    author: str
    author_email: str
    author_url: str
    date_gmt: datetime | None
    date_local: datetime | None
    content: str
    approved: str
    comment_type: str
    parent_id: int
    user_id: int
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One <item>: a post, page, attachment, menu item or anything else WordPress exports."""

    post_id: int
    post_type: str
    status: str
    title: str
    link: str
    guid: str
    post_name: str
    date: datetime | None
    creator: str
    content: str
    excerpt: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    comment_status: str
    has_password: bool
    comments: tuple[WordPressComment, ...]
    # An attachment's file (an uploaded image), as WordPress served it.
    attachment_url: str = ""


@dataclass(frozen=True)
class Export:
    """The whole export: the blog's addresses, its authors and its items in file order."""

    title: str
    link: str
    base_site_url: str
    base_blog_url: str
    authors: tuple[Author, ...]
    items: tuple[Item, ...]


class _Reader:
    """Namespaced look-ups for one export, whose wp: namespace depends on its WXR version."""

    def __init__(self, wp_namespace: str) -> None:
        self.ns = {
            "wp": wp_namespace,
            "excerpt": wp_namespace + "excerpt/",
            "content": CONTENT_NS,
            "dc": DC_NS,
        }

    def text(self, element: Element, path: str) -> str:
        found = element.find(path, self.ns)
        if found is None:
            return ""
        # WordPress wraps HTML in CDATA; other exporters leave it as XML, which must
        # come back as markup rather than lose everything after the first tag.
        inner = "".join(tostring(child, encoding="unicode") for child in found)
        return (found.text or "") + inner

    def integer(self, element: Element, path: str, where: str) -> int:
        raw = self.text(element, path).strip() or "0"
        try:
            return int(raw)
        except ValueError:
            raise WXRError(f"{where}: {path} should be a number, not {raw!r}") from None

    def date(self, element: Element, path: str, where: str) -> datetime | None:
        raw = self.text(element, path).strip()
        if not raw or raw == EMPTY_DATE:
            return None
        try:
            return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise WXRError(f"{where}: {path} is not a date: {raw!r}") from None


def parse(source: Path) -> Export:
    """Read the WXR file at `source`; raise WXRError naming the problem if it is not one."""
    try:
        tree = parse_xml(source)
    except ParseError as error:
        line, column = error.position
        raise WXRError(
            f"{source}: not a complete, well-formed WordPress export: the XML breaks at "
            f"line {line}, column {column} ({error}). Was the download cut short?"
        ) from None
    except DefusedXmlException as error:
        raise WXRError(f"{source}: refused an unsafe XML construct: {error}") from None
    except OSError as error:
        raise WXRError(f"{source}: cannot read the file: {error.strerror}") from None

    root = tree.getroot()
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise WXRError(f"{source}: not a WordPress export (no <rss><channel>)")
    version = next((c for c in channel if c.tag.endswith("}wxr_version")), None)
    if version is None or not version.tag.startswith("{" + WP_NAMESPACE_PREFIX):
        raise WXRError(f"{source}: not a WordPress export (no wp:wxr_version in the channel)")
    reader = _Reader(version.tag[1:].split("}")[0])

    return Export(
        title=reader.text(channel, "title").strip(),
        link=reader.text(channel, "link").strip(),
        base_site_url=reader.text(channel, "wp:base_site_url").strip(),
        base_blog_url=reader.text(channel, "wp:base_blog_url").strip(),
        authors=tuple(
            _author(reader, element, source) for element in channel.findall("wp:author", reader.ns)
        ),
        items=tuple(
            _item(reader, element, f"{source}: item {number}")
            for number, element in enumerate(channel.findall("item"), start=1)
        ),
    )


def _author(reader: _Reader, element: Element, source: Path) -> Author:
    login = reader.text(element, "wp:author_login").strip()
    return Author(
        user_id=reader.integer(element, "wp:author_id", f"{source}: author {login!r}"),
        login=login,
        display_name=reader.text(element, "wp:author_display_name").strip() or login,
        email=reader.text(element, "wp:author_email").strip(),
    )


def _item(reader: _Reader, element: Element, where: str) -> Item:
    if element.find("wp:post_id", reader.ns) is None:
        raise WXRError(f"{where}: has no wp:post_id")
    post_id = reader.integer(element, "wp:post_id", where)
    where = f"{where} (post {post_id})"
    categories = element.findall("category", reader.ns)
    return Item(
        post_id=post_id,
        post_type=reader.text(element, "wp:post_type").strip() or "post",
        status=reader.text(element, "wp:status").strip(),
        title=reader.text(element, "title"),
        link=reader.text(element, "link").strip(),
        guid=reader.text(element, "guid").strip(),
        # WordPress stores non-ASCII slugs percent-encoded.
        post_name=unquote(reader.text(element, "wp:post_name").strip()),
        date=reader.date(element, "wp:post_date", where),
        creator=reader.text(element, "dc:creator").strip(),
        content=reader.text(element, "content:encoded"),
        excerpt=reader.text(element, "excerpt:encoded"),
        categories=tuple(
            (c.text or "").strip() for c in categories if c.get("domain") == "category"
        ),
        tags=tuple((c.text or "").strip() for c in categories if c.get("domain") == "post_tag"),
        comment_status=reader.text(element, "wp:comment_status").strip(),
        has_password=bool(reader.text(element, "wp:post_password").strip()),
        comments=tuple(
            _comment(reader, c, where) for c in element.findall("wp:comment", reader.ns)
        ),
        attachment_url=reader.text(element, "wp:attachment_url").strip(),
    )


def _comment(reader: _Reader, element: Element, where: str) -> WordPressComment:
    comment_id = reader.integer(element, "wp:comment_id", f"{where}, a comment")
    where = f"{where}, comment {comment_id}"
    return WordPressComment(
        comment_id=comment_id,
        author=reader.text(element, "wp:comment_author"),
        author_email=reader.text(element, "wp:comment_author_email").strip(),
        author_url=reader.text(element, "wp:comment_author_url").strip(),
        date_gmt=reader.date(element, "wp:comment_date_gmt", where),
        date_local=reader.date(element, "wp:comment_date", where),
        content=reader.text(element, "wp:comment_content"),
        approved=reader.text(element, "wp:comment_approved").strip(),
        comment_type=reader.text(element, "wp:comment_type").strip(),
        parent_id=reader.integer(element, "wp:comment_parent", where),
        user_id=reader.integer(element, "wp:comment_user_id", where),
        meta={
            reader.text(meta, "wp:meta_key"): reader.text(meta, "wp:meta_value")
            for meta in element.findall("wp:commentmeta", reader.ns)
        },
    )
