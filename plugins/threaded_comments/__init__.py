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
from .cache import FeedEntry
from .comments_json import post_index_entry, write_comments_index
from .feeds import atom_feed, fill_post
from .markup import comment_form, thread_html
from .prefetch import Job, Prefetch
from .reader import Comment, CommentFileError
from .settings import comment_settings
from .threads import LazyThread, build_thread

logger = logging.getLogger(__name__)

__all__ = ["CommentFileError", "register"]

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


@dataclass
class PostFeed:
    """A post's comment feed to write: `make_text` is only called when the file may differ
    from what `entry` says was written last (`feed_key`, and the file's size)."""

    entry: comment_cache.PostComments
    feed_key: tuple
    make_text: Callable[[], str]


@dataclass
class CommentOutputs:
    """Files a build writes beside the pages: comments.json, the site-wide feed and each
    post's feed, then the plugin's cache (which notes the feeds' sizes)."""

    settings: dict[str, Any]
    cache: comment_cache.CommentCache
    index: dict[str, Any] = field(default_factory=lambda: {"posts": {}})
    latest_feed: tuple[str, str] = ("", "")
    post_feeds: dict[str, PostFeed] = field(default_factory=dict)
    writer: threading.Thread | None = None
    error: BaseException | None = None

    def write(self, output: Path, json_path: str) -> None:
        """Write every file into `output`, then the cache; an error is kept for
        write_outputs to raise."""
        try:
            write_comments_index(output / json_path, self.index)
            path, text = self.latest_feed
            _write_if_changed(output / path, text.encode())
            for relative, feed in self.post_feeds.items():
                if _write_feed(output / relative, feed):
                    self.cache.dirty = True
            comment_cache.save(self.settings, self.cache)
        except BaseException as error:  # handed to the build's own thread
            self.error = error


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
    """Check, thread and attach every post's comments; prepare comments.json and the feeds.

    Those files are written by a thread started here, which write_outputs waits for.
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
        result = state.prefetch.result()
    finally:
        state.prefetch.close()
    known_slugs = {article.slug for article in articles}
    for slug in sorted(set(result.folders) - known_slugs):
        raise CommentFileError(
            state.root / slug, f"is a comment folder for no post (no slug {slug!r})"
        )
    # For partials/comments_head.html, on every page that shows a post.
    generator.context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]
    # Where a reader without JavaScript collects her private removal link after posting
    # (the intake serves it once, beside the form's action).
    generator.context["COMMENT_RECEIPT_URL"] = options["FORM_ACTION"].rstrip("/") + "/receipt"

    published = {id(article) for article in generator.articles}
    now = datetime.now(UTC)
    max_depth, newest_first = options["MAX_DEPTH"], options["ORDER"] == "newest"
    site = _feed_site(generator.settings)
    sitename = generator.settings.get("SITENAME", "")
    outputs = CommentOutputs(generator.settings, cache)
    latest: list[tuple[FeedEntry, str, str]] = []
    # Only this build's posts are kept: entries of posts that are gone would weigh it down.
    fresh_posts: dict[str, comment_cache.PostComments] = {}
    for article in articles:
        slug = article.slug
        entry = fresh_posts.get(slug) or result.posts.get(slug)
        if entry is None:
            # Unchanged since the last build (the reader skips only those), or no comments.
            entry = cache.posts[slug] if slug in result.folders else comment_cache.PostComments()
        fresh_posts[slug] = entry
        thread = LazyThread(partial(_thread_of, entry, slug, max_depth, newest_first))
        is_open = _is_open(article, options, now)
        html_key = (is_open, state.timezone.key)
        if entry.html_key != html_key:
            cache.dirty = True
            entry.html_key = html_key
            entry.html = thread_html(thread, slug, {**options, "open": is_open}, state.timezone)
        article.comments = thread
        article.comment_count = entry.count
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
        post_url = f"{site}/{url}"
        outputs.post_feeds[article.comments_feed_url] = PostFeed(
            entry,
            (article.title, url, site, sitename, article.date, entry.digest),
            partial(_post_feed, article, entry, post_url, site, sitename),
        )
        outputs.index["posts"][slug] = post_index_entry(article, url, entry.likes)
        latest.extend((feed_entry, article.title, post_url) for feed_entry in entry.entries)
    outputs.latest_feed = (options["FEED_ALL"], _latest_feed(latest, options, generator.settings))

    if result.posts or fresh_posts.keys() != cache.posts.keys():
        cache.dirty = True
    cache.posts = fresh_posts
    # Pelican has already emptied output/ (if it does) by now. Creating a thousand small
    # files, and storing the cache (tens of megabytes for a big site), is mostly waiting on
    # the file system, which a thread does while Pelican goes on rendering pages.
    outputs.writer = threading.Thread(
        target=outputs.write,
        args=(Path(generator.output_path), options["JSON_PATH"]),
        name="threaded_comments-writer",
        daemon=True,
    )
    outputs.writer.start()
    generator.context[OUTPUTS_KEY] = outputs


def _thread_of(
    entry: comment_cache.PostComments, slug: str, max_depth: int, newest_first: bool
) -> list[Comment]:
    return build_thread(comment_cache.post_comments(entry, slug), max_depth, newest_first)


def _write_if_changed(path: Path, data: bytes) -> None:
    # Rewriting an unchanged file costs more than checking it, and keeps its date for rsync.
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_feed(path: Path, feed: PostFeed) -> bool:
    """Write a post's feed unless the file is as last written; True if its key is new."""
    entry = feed.entry
    if entry.feed_key == feed.feed_key:
        try:
            if path.stat().st_size == entry.feed_size:
                return False
        except FileNotFoundError:
            pass
    data = feed.make_text().encode()
    _write_if_changed(path, data)
    is_new = entry.feed_key != feed.feed_key or entry.feed_size != len(data)
    entry.feed_key, entry.feed_size = feed.feed_key, len(data)
    return is_new


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Wait for comments.json and the comment feeds; raise if writing them failed."""
    outputs: CommentOutputs | None = generator.context.pop(OUTPUTS_KEY, None)
    if outputs is None or outputs.writer is None:
        return
    outputs.writer.join()
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
