"""Threaded comments and likes, read from content/comments/<post-slug>/<comment-id>.md.

Each article gets `comments` (top-level comments, each with `.replies`), `comment_count`,
`comments_open`, the pre-built `comments_html` and `comment_form_html` the partial
templates place, and `comments_feed_url`. The build also writes output/comments.json and
Atom feeds of comments. A comment file that is wrong stops the build, naming the file.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican import signals

from . import cache as comment_cache
from .atomic import atomic_write, remove_orphaned_temp_files
from .cache import FeedEntry
from .comment_file import (
    ID_PATTERN,
    CommentFile,
    CommentFileError,
    comment_path,
    format_comment_file,
    parse_comment_file,
    read_comment_file,
    website_problem,
)
from .comments_json import PostEntry, read_comments_json, write_comments_json
from .feeds import atom_feed, fill_post
from .lazy import LazyHTML, LazyThread
from .markup import comment_form, likes_text, thread_html
from .prefetch import Job, Prefetch
from .reader import Comment
from .settings import SettingsError, comment_settings
from .threads import build_thread

logger = logging.getLogger(__name__)

# The plugin's public surface: the contracts moderation/ and the importer build on.
__all__ = [
    "ID_PATTERN",
    "CommentFile",
    "CommentFileError",
    "PostEntry",
    "SettingsError",
    "atomic_write",
    "comment_path",
    "comment_settings",
    "format_comment_file",
    "likes_text",
    "parse_comment_file",
    "read_comment_file",
    "read_comments_json",
    "register",
    "remove_orphaned_temp_files",
    "website_problem",
    "write_comments_json",
]

# Keys in the generator's context: the work started at init, the files to write at the end.
STATE_KEY = "threaded_comments_state"
OUTPUTS_KEY = "threaded_comments_outputs"


@dataclass
class BuildState:
    """What article_generator_init starts and attach_comments finishes."""

    options: dict[str, Any]
    timezone: ZoneInfo
    root: Path
    cache: comment_cache.CommentCache
    prefetch: Prefetch


class PostEntries:
    """Each post's PostComments in this build: as the reader sent them if its files
    changed, else as cached. Asking for a post the reader has not sent yet waits for it."""

    def __init__(self, state: BuildState, folders: dict[str, int], slugs: set[str]):
        self._state = state
        self._folders = folders
        # Posts without comments get theirs now, so two threads never make two.
        self._empty = {slug: comment_cache.PostComments() for slug in slugs - set(folders)}

    def get(self, slug: str) -> comment_cache.PostComments:
        """The post's entry (waiting for the reader if need be)."""
        if slug not in self._folders:
            return self._empty[slug]
        read = self._state.prefetch.post(slug)
        # The reader sends every post whose files changed, so None means unchanged.
        return read if read is not None else self._state.cache.posts[slug]

    def thread(self, slug: str) -> list[Comment]:
        """The post's top-level comments, threaded."""
        options = self._state.options
        comments = comment_cache.post_comments(self.get(slug), slug)
        return build_thread(comments, options["MAX_DEPTH"], options["ORDER"] == "newest")

    def html(self, slug: str, is_open: bool) -> str:
        """The thread's HTML, made again if the cached one was for another (open, zone)."""
        entry = self.get(slug)
        timezone = self._state.timezone
        html_key = (is_open, timezone.key)
        if entry.html_key != html_key:
            options = {**self._state.options, "open": is_open}
            entry.html = thread_html(self.thread(slug), slug, options, timezone)
            entry.html_key = html_key
            self._state.cache.dirty = True
        return entry.html


@dataclass
class PublishedPost:
    """What the comment feeds and comments.json need of a published post."""

    article: Any
    slug: str
    # Pelican works a URL out afresh on each access; once is enough.
    url: str


@dataclass
class CommentOutputs:
    """Files a build writes beside the pages: comments.json, the site-wide feed and each
    post's feed, then the plugin's cache."""

    settings: dict[str, Any]
    state: BuildState
    entries: PostEntries
    # Every post's slug -> whether it takes comments.
    is_open: dict[str, bool] = field(default_factory=dict)
    published: list[PublishedPost] = field(default_factory=list)
    writer: threading.Thread | None = None
    error: BaseException | None = None

    def write(self, output: Path) -> None:
        """Write every file into `output`, then the cache; an error is kept for
        write_outputs to raise."""
        try:
            self._write_files(output)
            self._save_cache()
        except BaseException as error:  # handed to the build's own thread
            self.error = error

    def _write_files(self, output: Path) -> None:
        options, settings = self.state.options, self.settings
        site = _feed_site(settings)
        sitename = settings.get("SITENAME", "")
        index: list[PostEntry] = []
        latest: list[tuple[FeedEntry, str, str]] = []
        for post in self.published:
            entry, article = self.entries.get(post.slug), post.article
            post_url = f"{site}/{post.url}"
            path = output / article.comments_feed_url
            feed_key = (article.title, post.url, site, sitename, article.date, entry.digest)
            feed = partial(_post_feed, article, entry, post_url, site, sitename)
            if _write_feed(path, entry, feed_key, feed):
                self.state.cache.dirty = True
            modified = getattr(article, "modified", None) or article.date
            index.append(
                PostEntry(
                    slug=post.slug,
                    url=f"/{post.url}",
                    title=article.title,
                    open=article.comments_open,
                    modified=modified.isoformat(),
                    comments=tuple(entry.likes),
                    likes=entry.likes,
                )
            )
            latest.extend((feed_entry, article.title, post_url) for feed_entry in entry.entries)
        write_comments_json(output / options["JSON_PATH"], index)
        latest_feed = _latest_feed(latest, options, settings)
        _write_if_changed(output / options["FEED_ALL"], latest_feed.encode())

    def _save_cache(self) -> None:
        cache = self.state.cache
        read = self.state.prefetch.done()
        for slug, is_open in self.is_open.items():
            # A page may not have printed it yet; whichever thread makes a post's HTML
            # first, the other finds it made (and both would make the same).
            self.entries.html(slug, is_open)
        # Only this build's posts are kept: entries of posts that are gone would weigh it.
        posts = {slug: self.entries.get(slug) for slug in sorted(self.is_open)}
        if read or posts.keys() != cache.posts.keys():
            cache.dirty = True
        cache.posts = posts
        comment_cache.save(self.settings, cache)


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


def _is_open(article: Any, options: dict[str, Any], now: datetime) -> bool:
    if str(article.metadata.get("comments", "")).strip().lower() == "closed":
        return False
    days = options["CLOSE_AFTER_DAYS"]
    if days is None:
        return True
    date = article.date if article.date.tzinfo else article.date.replace(tzinfo=UTC)
    return now - date <= timedelta(days=days)


def start_reading(generator: Any) -> None:
    """Begin finding and reading comment files while Pelican reads the posts."""
    settings = generator.settings
    options = comment_settings(settings)
    timezone = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    cache = comment_cache.load(settings, comment_cache.code_fingerprint(options))
    root = Path(generator.path) / options["PATH"]
    job = Job(root, options, timezone.key, cache.posts)
    generator.context[STATE_KEY] = BuildState(options, timezone, root, cache, Prefetch(job))


def _feed_site(settings: dict[str, Any]) -> str:
    return (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")


def _latest_feed(
    latest: list[tuple[FeedEntry, str, str]], options: dict[str, Any], settings: dict[str, Any]
) -> str:
    """The site-wide feed from (entry, post title, post URL) of every published comment."""
    site = _feed_site(settings)
    shown = heapq.nlargest(options["FEED_ALL_LIMIT"], latest, key=lambda item: item[0][0])
    return atom_feed(
        f"Latest comments - {settings.get('SITENAME', '')}",
        f"{site}/",
        f"{site}/{options['FEED_ALL']}",
        shown[0][0][1] if shown else "2000-01-01T00:00:00+00:00",
        "".join(fill_post(entry[2], title, url) for entry, title, url in shown),
    )


def _post_feed(
    article: Any, entry: comment_cache.PostComments, post_url: str, site: str, sitename: str
) -> str:
    return atom_feed(
        f"Comments on {article.title} - {sitename}",
        post_url,
        f"{site}/{article.comments_feed_url}",
        entry.entries[0][1] if entry.entries else article.date.isoformat(),
        fill_post("".join(xml for _, _, xml in entry.entries), article.title, post_url),
    )


def attach_comments(generator: Any) -> None:
    """Check every post's comment folder and give each post its comments, to be printed
    as they arrive; start writing comments.json and the feeds.

    Those files are written by a thread started here, which write_outputs waits for.
    """
    if STATE_KEY not in generator.context:
        start_reading(generator)
    state: BuildState = generator.context.pop(STATE_KEY)
    options = state.options
    # In the order Pelican writes their pages, which is the order the reader now takes.
    articles = list(
        chain(
            generator.translations,
            generator.articles,
            generator.hidden_translations,
            generator.hidden_articles,
            generator.drafts,
            generator.drafts_translations,
        )
    )
    try:
        folders = state.prefetch.folders()
        slugs = {article.slug for article in articles}
        for slug in sorted(set(folders) - slugs):
            raise CommentFileError(
                state.root / slug, f"is a comment folder for no post (no slug {slug!r})"
            )
    except BaseException:
        state.prefetch.close()
        raise
    state.prefetch.want_in_order([article.slug for article in articles])
    # For partials/comments_head.html, on every page that shows a post.
    generator.context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]
    # Where a reader without JavaScript collects her private removal link after posting
    # (the intake serves it once, beside the form's action).
    generator.context["COMMENT_RECEIPT_URL"] = options["FORM_ACTION"].rstrip("/") + "/receipt"

    entries = PostEntries(state, folders, slugs)
    published = {id(article) for article in generator.articles}
    now = datetime.now(UTC)
    outputs = CommentOutputs(generator.settings, state, entries)
    for article in articles:
        slug = article.slug
        is_open = outputs.is_open[slug] = _is_open(article, options, now)
        article.comments = LazyThread(partial(entries.thread, slug))
        article.comment_count = folders.get(slug, 0)
        article.comments_open = is_open
        # Pelican's templates print these as they are (no autoescape), as they do
        # article.content: both are built from escaped or sanitised parts.
        article.comments_html = LazyHTML(partial(entries.html, slug, is_open))
        article.comment_form_html = comment_form(slug, options["FORM_ACTION"]) if is_open else ""
        article.comments_feed_url = options["FEED_POST"].format(slug=slug)
        if id(article) in published:
            outputs.published.append(PublishedPost(article, slug, article.url))
    # Pelican has already emptied output/ (if it does) by now. Creating a thousand small
    # files, and storing the cache (tens of megabytes for a big site), is mostly waiting on
    # the file system, which a thread does while Pelican goes on rendering pages.
    outputs.writer = threading.Thread(
        target=outputs.write,
        args=(Path(generator.output_path),),
        name="threaded_comments-writer",
        daemon=True,
    )
    outputs.writer.start()
    generator.context[OUTPUTS_KEY] = outputs


def _write_if_changed(path: Path, data: bytes) -> None:
    # Rewriting an unchanged file costs more than checking it, and keeps its date for rsync.
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_feed(
    path: Path, entry: comment_cache.PostComments, feed_key: tuple, make_text: Callable[[], str]
) -> bool:
    """Write a post's feed unless the file is as last written; True if the entry's note of
    it changed. `make_text` is only called when the file may differ."""
    if entry.feed_key == feed_key:
        try:
            if path.stat().st_size == entry.feed_size:
                return False
        except FileNotFoundError:
            pass
    data = make_text().encode()
    _write_if_changed(path, data)
    size = len(data)
    is_new = entry.feed_key != feed_key or entry.feed_size != size
    entry.feed_key, entry.feed_size = feed_key, size
    return is_new


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Wait for comments.json, the comment feeds and the cache; raise if writing them or
    reading the comments failed."""
    outputs: CommentOutputs | None = generator.context.pop(OUTPUTS_KEY, None)
    if outputs is None or outputs.writer is None:
        return
    outputs.writer.join()
    outputs.state.prefetch.close()
    if outputs.error is not None:
        raise outputs.error


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.initialized.connect(exclude_comment_folder)
    signals.article_generator_init.connect(start_reading)
    # Errors raised here reach pelican's main(), which exits non-zero; content signals
    # would only log them.
    signals.article_generator_finalized.connect(attach_comments)
    signals.article_writer_finalized.connect(write_outputs)
