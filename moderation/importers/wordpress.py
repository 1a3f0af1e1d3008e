"""`invoke import-wordpress FILE`: a WordPress export (WXR) made into content/.

Posts become content/<slug>.md, pages content/pages/<slug>.md, and every approved comment
on either content/comments/<slug>/wp-<comment id>.md, written by the comment file's owner
(`threaded_comments.format_comment_file`), threaded as it was. A page with comments gets
`Comments: open` (pages take none unless they say so), or `closed` if WordPress closed it.
Comment HTML goes through the same allow-list as new comments before it becomes Markdown.
Emails and IP addresses are read only to decide things and are never written.
Links to the old blog's posts point to the new site, and an opening "Note added <date>: …"
paragraph that links a later post becomes the post's update-note metadata.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from bs4 import BeautifulSoup, Tag
from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify
from threaded_comments import CommentFile, format_comment_file, sanitize_html, website_problem

from moderation.importers import html_to_markdown, wxr
from moderation.importers.files import WriteReport, write_files
from moderation.importers.media import IMAGES_DIR, MediaReport, attachments, fetch, point_at_copies
from moderation.importers.pending import pending_to_inbox
from moderation.importers.wxr import WXRError
from moderation.inbox import NewComment
from moderation.settings import ProjectSettings

__all__ = ["Summary", "WXRError", "import_wordpress", "plan_import"]

PAGES_DIR = "pages"
# WordPress has no standard field for comment likes; plugins that count them use these keys.
LIKE_META_KEYS = ("likes", "like_count", "_comment_like_count")

# What WordPress's post statuses become: None is published, "draft" stays unpublished.
POST_STATUSES: dict[str, str | None] = {
    "publish": None,
    "draft": "draft",
    "pending": "draft",
    "future": "draft",
}
# Pelican writes drafts to output/drafts/ too, unlinked but public: what WordPress kept
# from readers stays in the export instead.
SKIPPED_POST_STATUSES = {
    "private": "private posts (the new site has no private posts; they stay in your export)",
    "trash": "posts in WordPress's trash",
    "auto-draft": "auto-drafts (WordPress's empty placeholders)",
    "inherit": "revisions",
}
SKIPPED_POST_TYPES = {
    "attachment": "attachments as items (their images: see Images below)",
    "nav_menu_item": "menu items",
    "revision": "revisions",
}
SKIPPED_COMMENT_STATUSES = {
    "spam": "spam comments",
    "0": "pending comments (never approved)",
    "trash": "trashed comments",
    "post-trashed": "comments trashed with their post",
}
MENTION_TYPES = frozenset({"pingback", "trackback"})
COMMENT_TYPES = frozenset({"", "comment"})

_NOTE_OPENING = re.compile(
    r"^(?:note added|added|update|updated)\s+(?:on\s+|in\s+)?(?P<when>[^:–—]{4,30}?)\s*[:–—]\s*"
    r"(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_NOTE_DATE_FORMATS = ("%B %Y", "%b %Y", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%Y-%m-%d")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SLUG = re.compile(r"[\w-]+")


@dataclass
class Summary:
    """What an import brought in, what it left out and why, and what it did to the files."""

    source: str = ""
    posts: int = 0
    drafts: int = 0
    pages: int = 0
    comments: int = 0
    posts_with_comments: int = 0
    page_comments: int = 0
    pages_with_comments: int = 0
    mentions: int = 0
    update_notes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    files: WriteReport | None = None
    # Comments WordPress held for moderation, for the inbox (they carry emails: never printed).
    pending: list[NewComment] = field(default_factory=list, repr=False)
    # (added, already there) once they are in the inbox.
    pending_to_inbox: tuple[int, int] | None = None
    images: MediaReport | None = None

    def lines(self) -> list[str]:
        """The summary as a person reads it at the end of the import."""
        lines = [
            f"Imported {self.source}:",
            f"  posts: {self.posts} ({self.drafts} as drafts)",
            f"  pages: {self.pages}",
            f"  comments: {self.comments} on {self.posts_with_comments} posts",
            f"  comments on pages: {self.page_comments} on {self.pages_with_comments} pages",
            f"  pingbacks and trackbacks kept as Mentions metadata: {self.mentions}",
            f"  update notes recognised: {self.update_notes}",
        ]
        lines += [f"  note: {count} {what}" for what, count in sorted(self.notes.items())]
        if self.pending_to_inbox is not None:
            added, present = self.pending_to_inbox
            lines.append(
                f"  pending comments: {added} put in your inbox as pending"
                + (f" ({present} were there already)" if present else "")
                + "; review them with `invoke moderate`"
            )
        if self.images is not None and self.images.copied:
            lines.append(f"  images: {len(self.images.copied)} copied into content/{IMAGES_DIR}/")
        if self.images is not None and self.images.not_copied:
            lines.append("Images still linked where they were on WordPress:")
            lines += [
                f"  {url}" + (f" (not copied: {why})" if why else "")
                for url, why in sorted(self.images.not_copied.items())
            ]
            if not any(self.images.not_copied.values()):
                lines.append("  (run the import again with --download-media to copy them)")
        if self.skipped:
            lines.append("Left out:")
            lines += [f"  {count} {why}" for why, count in sorted(self.skipped.items())]
        if self.files is not None:
            report = self.files
            lines.append(
                f"Files: {len(report.created)} new, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged"
            )
            for path in report.kept_edited:
                if path in report.existing_titles:
                    lines.append(f"  kept {path}: {_already_there(path, report)}")
                else:
                    lines.append(f"  kept {path}: you changed it since the last import (--force)")
            for path in report.kept_deleted:
                lines.append(f"  not recreated {path}: you deleted it (--force brings it back)")
        return lines


@dataclass(frozen=True, eq=False)
class _Entry:
    """An item that becomes a post or page, with where it lives on the new site."""

    item: wxr.Item
    kind: str  # "article" or "page"
    slug: str
    status: str | None
    path: str  # relative to content/
    url: str  # site path, e.g. /2016/03/texting-my-therapist/


def _already_there(path: str, report: WriteReport) -> str:
    """Why a file the import would write is kept: one of the author's own, not an import."""
    title = report.existing_titles[path]
    named = f" (“{title}”)" if title else ""
    if path.startswith(f"{PAGES_DIR}/") or "/" not in path:
        kind = "page" if path.startswith(f"{PAGES_DIR}/") else "post"
        slug = PurePosixPath(path).stem
        return (
            f"a {kind} with the slug “{slug}” already exists{named}, not from an earlier "
            "import; rename one of them, or --force replaces yours"
        )
    return "a file of that name already exists, not from an earlier import (--force replaces it)"


def import_wordpress(
    source: Path,
    settings: ProjectSettings,
    *,
    force: bool = False,
    content_dir: Path | None = None,
    inbox_path: Path | None = None,
    download_media: bool = False,
) -> Summary:
    """Import the WXR file `source` into the site's content folder (or `content_dir`);
    raise WXRError (writing nothing) if the file is not a complete WordPress export.

    With `inbox_path`, the comments WordPress still held for moderation go into that inbox
    as pending, for `invoke moderate`; without it they are listed as left out. With
    `download_media`, the attachments' images are copied into the content folder first
    (moderation.importers.media), and the posts point at the copies."""
    export = wxr.parse(source)
    target = content_dir or settings.content_dir
    planned = attachments(export)
    if download_media:
        images = fetch(planned, target)
    else:
        images = MediaReport(not_copied=dict.fromkeys(planned, ""))
    files, summary = plan_import(export, settings, images.copied)
    summary.source = str(source)
    summary.images = images
    summary.files = write_files(target, files, force=force)
    if inbox_path is not None and summary.pending:
        summary.pending_to_inbox = pending_to_inbox(summary.pending, inbox_path)
        del summary.skipped[SKIPPED_COMMENT_STATUSES["0"]]
    return summary


def plan_import(
    export: wxr.Export, settings: ProjectSettings, copied_images: Mapping[str, str] | None = None
) -> tuple[dict[str, str], Summary]:
    """The files an import writes (path relative to the content folder -> text) and its
    summary, touching nothing. URLs and the comments folder follow `settings`; images
    whose address is in `copied_images` point at their copy in the content folder."""
    summary = Summary()
    comments_folder = settings.comments_dir.relative_to(settings.content_dir).as_posix()
    entries = _entries(export, summary, settings.article_url, settings.page_url)
    links = _LinkIndex(export, [e for e in entries if e.status is None])
    author_ids = {a.user_id for a in export.authors if a.user_id}
    display_names = {a.login: a.display_name for a in export.authors}

    files: dict[str, str] = {}
    for entry in entries:
        try:
            comments, mentions = _comments(entry, links, author_ids, summary)
            files[entry.path] = _post_text(
                entry,
                links,
                display_names,
                mentions,
                bool(comments),
                summary,
                copied_images or {},
            )
        except RecursionError:
            # HTML nested deeper than Python's recursion limit (50,000 <div>s): a clear
            # refusal, raised before any file is written.
            raise wxr.WXRError(
                f"{entry.item.title or entry.slug!r}: its HTML (or a comment's) is nested "
                "too deeply to convert"
            ) from None
        summary.pending += _pending(entry, links, settings, {c.id for c in comments})
        files.update(
            (f"{comments_folder}/{entry.slug}/{comment.id}.md", format_comment_file(comment))
            for comment in comments
        )
        if entry.kind == "page":
            summary.page_comments += len(comments)
            summary.pages_with_comments += bool(comments)
        else:
            summary.comments += len(comments)
            summary.posts_with_comments += bool(comments)
    return files, summary


def _entries(export: wxr.Export, summary: Summary, article_url: str, page_url: str) -> list[_Entry]:
    entries: list[_Entry] = []
    used: dict[str, set[str]] = {"article": set(), "page": set()}
    for item in export.items:
        if item.post_type in SKIPPED_POST_TYPES:
            summary.skipped[SKIPPED_POST_TYPES[item.post_type]] += 1
            continue
        if item.post_type not in ("post", "page"):
            summary.skipped[f"items of type {item.post_type!r}"] += 1
            continue
        if item.status not in POST_STATUSES:
            summary.skipped[SKIPPED_POST_STATUSES.get(item.status, f"{item.status!r} items")] += 1
            continue
        if item.has_password:
            summary.skipped[
                "password-protected posts (a static site cannot protect them; "
                "they stay in your export)"
            ] += 1
            continue
        status = POST_STATUSES[item.status]
        kind = "page" if item.post_type == "page" else "article"
        slug = _unique(_slug(item), used[kind])
        if kind == "page":
            summary.pages += 1
            path, url = f"{PAGES_DIR}/{slug}.md", _site_path(page_url, slug, item)
        else:
            summary.posts += 1
            summary.drafts += status == "draft"
            path, url = f"{slug}.md", _site_path(article_url, slug, item)
        entries.append(_Entry(item, kind, slug, status, path, url))
    return entries


def _slug(item: wxr.Item) -> str:
    name = item.post_name.strip().lower()
    if _SLUG.fullmatch(name) and not name.startswith(("-", "_")):
        return name
    subs = DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]
    return slugify(name or item.title, regex_subs=subs) or f"post-{item.post_id}"


def _unique(slug: str, used: set[str]) -> str:
    candidate, number = slug, 1
    while candidate in used:
        number += 1
        candidate = f"{slug}-{number}"
    used.add(candidate)
    return candidate


def _site_path(pattern: str, slug: str, item: wxr.Item) -> str:
    try:
        return "/" + pattern.format(slug=slug, date=item.date or datetime(1970, 1, 1))
    except (KeyError, IndexError) as error:
        message = f"the URL pattern {pattern!r} uses {error}, which the importer cannot fill"
        raise ValueError(message) from None


class _LinkIndex:
    """Finds which imported post an address on the old blog pointed to."""

    def __init__(self, export: wxr.Export, published: list[_Entry]) -> None:
        urls = [export.link, export.base_blog_url]
        if urlsplit(export.base_site_url).hostname not in (None, "wordpress.com"):
            urls.append(export.base_site_url)
        self.hosts = {_host(url) for url in urls if _host(url)}
        self.by_path: dict[str, _Entry] = {}
        self.by_id: dict[int, _Entry] = {}
        for entry in published:
            self.by_id[entry.item.post_id] = entry
            for url in (entry.item.link, entry.item.guid):
                parts = urlsplit(url)
                if not parts.query and _host(url) in self.hosts:
                    self.by_path[_path_key(parts.path)] = entry

    def find(self, href: str) -> tuple[_Entry, str] | None:
        """The entry `href` points to and its fragment, or None if not one of ours."""
        parts = urlsplit(href.strip())
        if parts.scheme not in ("", "http", "https"):
            return None
        if parts.netloc and _host(href) not in self.hosts:
            return None
        if not parts.netloc and not parts.path.startswith("/"):
            return None
        query = parse_qs(parts.query)
        for key in ("p", "page_id"):
            if query.get(key, [""])[0].isdigit():
                entry = self.by_id.get(int(query[key][0]))
                break
        else:
            entry = self.by_path.get(_path_key(parts.path))
        if entry is None:
            return None
        # WordPress's comment anchors are #comment-<id>; the new site's are #comment-wp-<id>.
        fragment = re.sub(r"^comment-(\d+)$", r"comment-wp-\1", parts.fragment)
        return entry, fragment

    def site_url(self, href: str) -> str | None:
        """`href` as a path on the new site (for comments), or None."""
        found = self.find(href)
        return None if found is None else _with_fragment(found[0].url, found[1])

    def pelican_link(self, href: str) -> str | None:
        """`href` as a Pelican {filename} link (for posts and pages), or None."""
        found = self.find(href)
        return None if found is None else _with_fragment(f"{{filename}}/{found[0].path}", found[1])


def _host(url: str) -> str:
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host.removeprefix("www.")


def _path_key(path: str) -> str:
    return unquote(path).rstrip("/").lower()


def _with_fragment(url: str, fragment: str) -> str:
    return f"{url}#{fragment}" if fragment else url


def _post_text(
    entry: _Entry,
    links: _LinkIndex,
    display_names: dict[str, str],
    mentions: list[str],
    has_comments: bool,
    summary: Summary,
    copied_images: Mapping[str, str],
) -> str:
    item = entry.item
    body = html_to_markdown.parse(item.content, shortcodes=True)
    note = _update_note(body, entry, links) if entry.kind == "article" else {}
    summary.update_notes += bool(note)
    html_to_markdown.rewrite_links(body, links.pelican_link)
    point_at_copies(body, copied_images)

    metadata = {
        "Title": _one_line(item.title) or f"Untitled {item.post_id}",
        "Date": f"{item.date:%Y-%m-%d %H:%M}" if item.date else "",
        "Slug": entry.slug,
        "Author": display_names.get(item.creator, item.creator),
    }
    if entry.kind == "article":
        # Pelican takes one category; any further WordPress categories become tags.
        metadata["Category"] = item.categories[0] if item.categories else ""
        metadata["Tags"] = ", ".join(dict.fromkeys([*item.categories[1:], *item.tags]))
        if item.comment_status == "closed":
            metadata["Comments"] = "closed"
        # Pelican reads a summary as Markdown, so it is converted like the body.
        metadata["Summary"] = html_to_markdown.to_markdown(html_to_markdown.parse(item.excerpt))
        metadata.update(note)
        metadata["Mentions"] = ", ".join(mentions)
    elif has_comments:
        # The plugin shows a page's comments only when its metadata opens them.
        metadata["Comments"] = "closed" if item.comment_status == "closed" else "open"
    if entry.status:
        metadata["Status"] = entry.status
    header = "".join(f"{key}: {_one_line(value)}\n" for key, value in metadata.items() if value)
    return f"{header}\n{html_to_markdown.to_markdown(body)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _update_note(body: BeautifulSoup, entry: _Entry, links: _LinkIndex) -> dict[str, str]:
    """The update-note metadata of a post that opens with a dated note linking a later post,
    taking the note out of the body; {} (body untouched) if the opening is not one."""
    opening = next((c for c in body.children if isinstance(c, Tag) or str(c).strip()), None)
    if not isinstance(opening, Tag) or opening.name != "p":
        return {}
    match = _NOTE_OPENING.match(html_to_markdown.plain_text(opening))
    anchors = opening.find_all("a", href=True)
    targets = {found[0] for a in anchors if (found := links.find(a["href"])) is not None}
    if match is None or len(targets) != 1 or entry.item.date is None:
        return {}
    target = targets.pop()
    if target.kind != "article" or target is entry or target.item.date is None:
        return {}
    added = _note_date(match["when"], entry.item.date.date(), target.item.date.date())
    if added is None:
        return {}
    link_texts = [html_to_markdown.plain_text(a) for a in anchors]
    sentences = _SENTENCE_END.split(match["rest"].strip())
    kept = [s for s in sentences if not any(t and t in s for t in link_texts)]
    opening.extract()
    return {
        "Note_date": added.isoformat(),
        "Note": " ".join(kept or sentences),
        "Followup": target.slug,
    }


def _note_date(when: str, posted: date, followup: date) -> date | None:
    """The note's date: as written; a bare month is the follow-up's day when it fell in it."""
    for pattern in _NOTE_DATE_FORMATS:
        try:
            parsed = datetime.strptime(when.strip(), pattern).date()
        except ValueError:
            continue
        if "%d" not in pattern:
            same_month = (followup.year, followup.month) == (parsed.year, parsed.month)
            parsed = followup if same_month else max(parsed, posted)
        return parsed if parsed >= posted else None
    return None


def _comments(
    entry: _Entry,
    links: _LinkIndex,
    author_ids: set[int],
    summary: Summary,
) -> tuple[list[CommentFile], list[str]]:
    """The approved comments of one post or page, and the addresses of its approved
    pingbacks (kept as a post's Mentions)."""
    kept: dict[int, tuple[wxr.WordPressComment, str]] = {}
    mentions: list[str] = []
    for comment in entry.item.comments:
        if comment.approved in SKIPPED_COMMENT_STATUSES:
            summary.skipped[SKIPPED_COMMENT_STATUSES[comment.approved]] += 1
        elif comment.approved != "1":
            summary.skipped[f"comments with status {comment.approved!r}"] += 1
        elif comment.comment_type in MENTION_TYPES:
            if entry.kind == "article" and _website(comment.author_url):
                mentions.append(comment.author_url)
                summary.mentions += 1
            else:
                summary.skipped["pingbacks and trackbacks with nowhere to show them"] += 1
        elif comment.comment_type not in COMMENT_TYPES:
            summary.skipped[f"comments of type {comment.comment_type!r}"] += 1
        else:
            # The allow-list new comments get, before the HTML becomes Markdown.
            soup = html_to_markdown.parse(comment.content, sanitize=sanitize_html)
            html_to_markdown.rewrite_links(soup, links.site_url)
            body = html_to_markdown.to_markdown(soup)
            if body:
                kept[comment.comment_id] = (comment, body)
            else:
                summary.skipped["comments with nothing left after sanitising"] += 1

    parents = {c.comment_id: c.parent_id for c in entry.item.comments}
    kept_parents: dict[int, int] = {}
    for comment_id, (comment, _) in kept.items():
        kept_parents[comment_id] = _kept_ancestor(comment.parent_id, kept, parents)
        if kept_parents[comment_id] != comment.parent_id:
            summary.notes["replies moved up: the comment they answered was left out"] += 1
    broken = _break_cycles(kept_parents, kept)
    if broken:
        summary.notes["reply cycles broken: the earliest comment of each made top-level"] += len(
            broken
        )
    comments: list[CommentFile] = []
    for comment_id, (comment, body) in kept.items():
        parent = kept_parents[comment_id]
        # The WordPress account alone says who the author is: anyone can type her email.
        is_author = comment.user_id in author_ids
        website = comment.author_url if _website(comment.author_url) else None
        if comment.author_url and website is None:
            summary.notes["commenter websites dropped (not http or https)"] += 1
        comments.append(
            CommentFile(
                id=f"wp-{comment_id}",
                author=_one_line(comment.author) or "Anonymous",
                date=_comment_date(comment),
                body=body,
                replyto=f"wp-{parent}" if parent else None,
                website=website,
                likes=_likes(comment),
                author_role="author" if is_author else None,
            )
        )
    return comments, mentions


def _break_cycles(
    kept_parents: dict[int, int], kept: dict[int, tuple[wxr.WordPressComment, str]]
) -> list[int]:
    """Make the earliest comment of each reply cycle top-level (in place); returns them.

    WordPress never makes a cycle itself, but an edited export can, and a cycle of
    `replyto`s stops the build.
    """
    broken = []
    settled: set[int] = set()  # reaches the top, or already broken free
    for start in kept_parents:
        path: dict[int, None] = {}
        node = start
        while node and node not in settled and node not in path:
            path[node] = None
            node = kept_parents.get(node, 0)
        if node in path:
            cycle = list(path)[list(path).index(node) :]
            earliest = min(cycle, key=lambda cid: (_comment_date(kept[cid][0]), cid))
            kept_parents[earliest] = 0
            broken.append(earliest)
        settled.update(path)
    return broken


def _pending(
    entry: _Entry, links: _LinkIndex, settings: ProjectSettings, published: set[str]
) -> list[NewComment]:
    """The comments WordPress held for moderation ("0"), as the intake would have stored
    them: the same allow-list and Markdown as approved ones; a reply keeps its parent only
    if that comment comes across published."""
    pending = []
    for comment in entry.item.comments:
        if comment.approved != "0" or comment.comment_type not in COMMENT_TYPES:
            continue
        soup = html_to_markdown.parse(comment.content, sanitize=sanitize_html)
        html_to_markdown.rewrite_links(soup, links.site_url)
        body = html_to_markdown.to_markdown(soup)
        if not body:
            continue
        parent = f"wp-{comment.parent_id}" if comment.parent_id else None
        pending.append(
            NewComment(
                post_slug=entry.slug,
                author=_one_line(comment.author) or "Anonymous",
                email=comment.author_email,
                body=body,
                permalink=settings.site_url + entry.url,
                parent_id=parent if parent in published else None,
                website=comment.author_url if _website(comment.author_url) else None,
            )
        )
    return pending


def _kept_ancestor(parent: int, kept: dict[int, object], parents: dict[int, int]) -> int:
    seen: set[int] = set()
    while parent and parent not in kept and parent not in seen:
        seen.add(parent)
        parent = parents.get(parent, 0)
    return parent if parent in kept else 0


def _website(url: str) -> bool:
    return bool(url) and website_problem(url) is None


def _comment_date(comment: wxr.WordPressComment) -> datetime:
    if comment.date_gmt is not None:
        return comment.date_gmt.replace(tzinfo=UTC)
    # Without WordPress's UTC copy the local time is all there is; the site's zone reads it.
    return comment.date_local or datetime(1970, 1, 1, tzinfo=UTC)


def _likes(comment: wxr.WordPressComment) -> int:
    for key in LIKE_META_KEYS:
        value = comment.meta.get(key, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 0
