"""Threaded comments and likes, read from content/comments/<post-slug>/<comment-id>.md.

Each article gets `comments` (top-level comments, each with `.replies`), `comment_count`,
`comments_open`, the pre-built `comments_html` and `comment_form_html` the partial
templates place, and `comments_feed_url`. The build also writes output/comments.json and
Atom feeds of comments. A comment file that is wrong stops the build, naming the file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican import signals

from . import cache as comment_cache
from .comments_json import post_index_entry, write_comments_index
from .feeds import atom_feed
from .markup import comment_form, thread_html
from .prefetch import Prefetch
from .reader import Comment, CommentFileError, comment_id_from_name
from .settings import comment_settings
from .threads import build_thread

logger = logging.getLogger(__name__)

__all__ = ["CommentFileError", "register"]

# Keys in the generator's context: the work started at init, the files to write at the end.
STATE_KEY = "threaded_comments_state"
OUTPUTS_KEY = "threaded_comments_outputs"

Stamps = list[tuple[str, int, int]]


@dataclass
class BuildState:
    """What article_generator_init starts and attach_comments finishes."""

    options: dict[str, Any]
    timezone: ZoneInfo
    root: Path
    folders: dict[str, Stamps]
    cache: comment_cache.CommentCache
    prefetch: Prefetch


@dataclass
class CommentOutputs:
    """Files a build writes beside the pages: comments.json and feeds (path -> text)."""

    index: dict[str, Any] = field(default_factory=lambda: {"posts": {}})
    files: dict[str, str] = field(default_factory=dict)


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


def _scan(root: Path) -> dict[str, Stamps]:
    """Post slug -> sorted (file name, mtime_ns, size) of its comment files."""
    folders: dict[str, Stamps] = {}
    if not root.is_dir():
        return folders
    with os.scandir(root) as folder_entries:
        for folder in folder_entries:
            if not folder.is_dir():
                logger.warning("threaded_comments: ignoring %s (not in a post folder)", folder.path)
                continue
            with os.scandir(folder.path) as entries:
                stamps = []
                for entry in entries:
                    if comment_id_from_name(entry.name) is not None:
                        status = entry.stat()
                        stamps.append((entry.name, status.st_mtime_ns, status.st_size))
            folders[folder.name] = sorted(stamps)
    return folders


def _check_folders(root: Path, folders: dict[str, Stamps], known_slugs: set[str]) -> None:
    for slug in sorted(set(folders) - known_slugs):
        raise CommentFileError(root / slug, f"is a comment folder for no post (no slug {slug!r})")
    owners: dict[str, tuple[str, str]] = {}
    for slug in sorted(folders):
        for name, _, _ in folders[slug]:
            comment_id = comment_id_from_name(name)
            if comment_id in owners:
                first_slug, first_name = owners[comment_id]
                raise CommentFileError(
                    root / slug / name,
                    f"duplicate comment id (also {root / first_slug / first_name})",
                )
            owners[comment_id] = (slug, name)


def _is_open(article: Any, options: dict[str, Any], now: datetime) -> bool:
    if str(article.metadata.get("comments", "")).strip().lower() == "closed":
        return False
    days = options["CLOSE_AFTER_DAYS"]
    if days is None:
        return True
    date = article.date if article.date.tzinfo else article.date.replace(tzinfo=UTC)
    return now - date <= timedelta(days=days)


def start_reading(generator: Any) -> None:
    """Begin reading and rendering changed comment files while Pelican reads the posts."""
    settings = generator.settings
    options = comment_settings(settings)
    root = Path(generator.path) / options["PATH"]
    timezone = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    folders = _scan(root)
    cache = comment_cache.load(settings, comment_cache.code_fingerprint(options))
    wanted = {}
    for slug, stamps in folders.items():
        entry = cache.posts.get(slug)
        if entry is None or entry.key != tuple(stamps):
            wanted[slug] = [name for name, _, _ in stamps]
    prefetch = Prefetch(root, wanted, timezone.key, cache.rendered)
    generator.context[STATE_KEY] = BuildState(options, timezone, root, folders, cache, prefetch)


def _feed_site(settings: dict[str, Any]) -> str:
    return (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")


def _post_feed(article: Any, url: str, comments: list[Comment], site: str) -> str:
    post_url = f"{site}/{url}"
    entries = sorted(
        ((comment, article.title, post_url) for comment in comments),
        key=lambda entry: entry[0].date,
        reverse=True,
    )
    return atom_feed(
        f"Comments on {article.title} - {article.settings.get('SITENAME', '')}",
        post_url,
        f"{site}/{article.comments_feed_url}",
        entries,
        article.date,
    )


def _latest_feed(
    latest: list[tuple[Comment, str, str]], options: dict[str, Any], settings: dict[str, Any]
) -> str:
    site = _feed_site(settings)
    latest.sort(key=lambda entry: entry[0].date, reverse=True)
    return atom_feed(
        f"Latest comments - {settings.get('SITENAME', '')}",
        f"{site}/",
        f"{site}/{options['FEED_ALL']}",
        latest[: options["FEED_ALL_LIMIT"]],
        datetime(2000, 1, 1, tzinfo=UTC),
    )


def attach_comments(generator: Any) -> None:
    """Check, thread and attach every post's comments; prepare comments.json and the feeds.

    The files themselves are written by write_outputs, once Pelican has (maybe) emptied
    output/.
    """
    if STATE_KEY not in generator.context:
        start_reading(generator)
    state: BuildState = generator.context.pop(STATE_KEY)
    options, cache = state.options, state.cache
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
    try:
        _check_folders(state.root, state.folders, {article.slug for article in articles})
        read, rendered = state.prefetch.result()
    finally:
        state.prefetch.close()
    cache.rendered.update(rendered)
    cache.dirty = cache.dirty or bool(read)
    # For partials/comments_head.html, on every page that shows a post.
    generator.context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]

    published = {id(article) for article in generator.articles}
    now = datetime.now(UTC)
    newest_first = options["ORDER"] == "newest"
    site = _feed_site(generator.settings)
    outputs = CommentOutputs()
    latest: list[tuple[Comment, str, str]] = []
    used_keys: set[str] = set()
    # Only this build's posts are kept: entries of posts that are gone would weigh it down.
    fresh_posts: dict[str, comment_cache.PostEntry] = {}
    for article in articles:
        slug = article.slug
        stamps = tuple(state.folders.get(slug, ()))
        entry = fresh_posts.get(slug) or cache.posts.get(slug)
        if entry is None or entry.key != stamps:
            entry = comment_cache.PostEntry(stamps, read.get(slug, []))
        fresh_posts[slug] = entry
        used_keys.update(record[-1] for record in entry.records)
        comments = [comment_cache.from_record(r, slug, cache.rendered) for r in entry.records]
        top_level = build_thread(comments, options["MAX_DEPTH"], newest_first)
        is_open = _is_open(article, options, now)
        html_key = (is_open, state.timezone.key)
        if entry.html_key != html_key:
            cache.dirty = True
            entry.html_key = html_key
            entry.html = thread_html(top_level, slug, {**options, "open": is_open}, state.timezone)
        article.comments = top_level
        article.comment_count = len(comments)
        article.comments_open = is_open
        # Pelican's templates print these as they are (no autoescape), as they do
        # article.content: both are built from escaped or sanitised parts.
        article.comments_html = entry.html
        article.comment_form_html = comment_form(slug, options["FORM_ACTION"]) if is_open else ""
        article.comments_feed_url = options["FEED_POST"].format(slug=slug)

        if id(article) not in published:
            continue
        # Pelican works a URL out afresh on each access; once is enough here.
        url = article.url
        feed_key = (article.title, url, site, generator.settings.get("SITENAME"), article.date)
        if entry.feed_key != feed_key:
            cache.dirty = True
            entry.feed_key, entry.feed = feed_key, _post_feed(article, url, comments, site)
        outputs.files[article.comments_feed_url] = entry.feed
        outputs.index["posts"][slug] = post_index_entry(article, url, comments)
        latest.extend((comment, article.title, f"{site}/{url}") for comment in comments)
    outputs.files[options["FEED_ALL"]] = _latest_feed(latest, options, generator.settings)
    generator.context[OUTPUTS_KEY] = outputs

    if fresh_posts.keys() != cache.posts.keys():
        cache.dirty = True
    cache.posts = fresh_posts
    comment_cache.save(generator.settings, cache, used_keys)


def _write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged feed costs more than reading it, and keeps its date for rsync.
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Write comments.json and the comment feeds prepared by attach_comments."""
    outputs: CommentOutputs | None = generator.context.get(OUTPUTS_KEY)
    if outputs is None:
        return
    output = Path(generator.output_path)
    write_comments_index(output / comment_settings(generator.settings)["JSON_PATH"], outputs.index)
    for relative, text in outputs.files.items():
        _write_if_changed(output / relative, text)


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.initialized.connect(exclude_comment_folder)
    signals.article_generator_init.connect(start_reading)
    # Errors raised here reach pelican's main(), which exits non-zero; content signals
    # would only log them.
    signals.article_generator_finalized.connect(attach_comments)
    signals.article_writer_finalized.connect(write_outputs)
