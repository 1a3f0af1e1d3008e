"""Threaded comments and likes, read from content/comments/<post-slug>/<comment-id>.md.

Each article gets `comments` (top-level comments, each with `.replies`), `comment_count`,
`comments_open`, the pre-built `comments_html` and `comment_form_html` the partial
templates place, and `comments_feed_url`. The build also writes output/comments.json and
Atom feeds of comments. A comment file that is wrong stops the build, naming the file.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican import signals

from . import cache as comment_cache
from .comments_json import write_atomically, write_comments_index
from .feeds import atom_feed
from .markup import comment_form, thread_html
from .reader import CommentFileError, comment_id_from_name, read_comment
from .rendering import content_key, render_cached
from .settings import comment_settings
from .threads import build_thread, flatten

logger = logging.getLogger(__name__)

__all__ = ["CommentFileError", "register"]


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


def _scan(root: Path) -> dict[str, list[tuple[str, int, int]]]:
    """Post slug -> sorted (file name, mtime_ns, size) of its comment files."""
    folders: dict[str, list[tuple[str, int, int]]] = {}
    if not root.is_dir():
        return folders
    for folder in root.iterdir():
        if not folder.is_dir():
            logger.warning("threaded_comments: ignoring %s (comments live in post folders)", folder)
            continue
        stamps = []
        for entry in folder.iterdir():
            if comment_id_from_name(entry.name) is None:
                continue
            status = entry.stat()
            stamps.append((entry.name, status.st_mtime_ns, status.st_size))
        folders[folder.name] = sorted(stamps)
    return folders


def _check_folders(root: Path, folders: dict[str, list], known_slugs: set[str]) -> None:
    for slug in sorted(set(folders) - known_slugs):
        raise CommentFileError(root / slug, f"is a comment folder for no post (no slug {slug!r})")
    owners: dict[str, Path] = {}
    for slug, stamps in folders.items():
        for name, _, _ in stamps:
            comment_id = comment_id_from_name(name)
            path = root / slug / name
            if comment_id in owners:
                raise CommentFileError(path, f"duplicate comment id (also {owners[comment_id]})")
            owners[comment_id] = path


def _is_open(article: Any, options: dict[str, Any], now: datetime) -> bool:
    if str(article.metadata.get("comments", "")).strip().lower() == "closed":
        return False
    days = options["CLOSE_AFTER_DAYS"]
    if days is None:
        return True
    date = article.date if article.date.tzinfo else article.date.replace(tzinfo=UTC)
    return now - date <= timedelta(days=days)


def attach_comments(generator: Any) -> None:
    """Read, check, render and thread every post's comments; attach them to the articles."""
    settings = generator.settings
    options = comment_settings(settings)
    timezone = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    root = Path(generator.path) / options["PATH"]
    articles = list(
        chain(
            generator.articles,
            generator.translations,
            generator.hidden_articles,
            generator.hidden_translations,
            generator.drafts,
            generator.drafts_translations,
        )
    )
    # For partials/comments_head.html, on every page that shows a post.
    generator.context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]
    folders = _scan(root)
    _check_folders(root, folders, {article.slug for article in articles})

    cache = comment_cache.load(settings, comment_cache.code_fingerprint(options))
    used_keys: set[str] = set()
    now = datetime.now(UTC)
    newest_first = options["ORDER"] == "newest"
    # Only this build's posts are kept: entries of posts that are gone would weigh it down.
    fresh_posts: dict[str, comment_cache.PostEntry] = {}
    for article in articles:
        stamps = folders.get(article.slug, [])
        is_open = _is_open(article, options, now)
        key = (tuple(stamps), is_open, timezone.key)
        entry = cache.posts.get(article.slug)
        if entry is None or entry.key != key:
            comments = [
                read_comment(root / article.slug / name, article.slug, timezone)
                for name, _, _ in stamps
            ]
            for comment in comments:
                comment.content = render_cached(comment.body, cache.rendered, used_keys)
            top_level = build_thread(comments, options["MAX_DEPTH"], newest_first)
            html = thread_html(top_level, article.slug, {**options, "open": is_open}, timezone)
            entry = comment_cache.PostEntry(
                key, top_level, html, [content_key(comment.body) for comment in comments]
            )
        fresh_posts[article.slug] = entry
        used_keys.update(entry.content_keys)
        article.comments = entry.top_level
        article.comment_count = len(entry.content_keys)
        article.comments_open = is_open
        # Pelican's templates print HTML attributes as they are (no autoescape), as they
        # do article.content: both are built from escaped or sanitised parts.
        article.comments_html = entry.html
        article.comment_form_html = (
            comment_form(article.slug, options["FORM_ACTION"]) if is_open else ""
        )
        article.comments_feed_url = options["FEED_POST"].format(slug=article.slug)
    cache.posts = fresh_posts
    comment_cache.save(settings, cache, used_keys)


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Write comments.json and the comment feeds (after Pelican may have emptied output/)."""
    settings = generator.settings
    options = comment_settings(settings)
    output = Path(generator.output_path)
    articles = [a for a in generator.articles if hasattr(a, "comments_open")]
    write_comments_index(output / options["JSON_PATH"], articles)

    site = (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")
    latest = []
    for article in articles:
        post_url = f"{site}/{article.url}"
        entries = sorted(
            ((c, article.title, post_url) for c in flatten(article.comments)),
            key=lambda entry: entry[0].date,
            reverse=True,
        )
        latest.extend(entries)
        feed_url = f"{site}/{article.comments_feed_url}"
        title = f"Comments on {article.title} - {settings.get('SITENAME', '')}"
        write_atomically(
            output / article.comments_feed_url,
            atom_feed(title, post_url, feed_url, entries, article.date),
        )
    latest.sort(key=lambda entry: entry[0].date, reverse=True)
    all_url = f"{site}/{options['FEED_ALL']}"
    newest_post = max((a.date for a in articles), default=datetime.now(UTC))
    write_atomically(
        output / options["FEED_ALL"],
        atom_feed(
            f"Latest comments - {settings.get('SITENAME', '')}",
            f"{site}/",
            all_url,
            latest[: options["FEED_ALL_LIMIT"]],
            newest_post,
        ),
    )


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.initialized.connect(exclude_comment_folder)
    # Raised errors here reach pelican's main(), which exits non-zero; content signals
    # would only log them.
    signals.article_generator_finalized.connect(attach_comments)
    signals.article_writer_finalized.connect(write_outputs)
