"""Threaded comments and likes, read from content/comments/<post-slug>/<comment-id>.md.

Each article gets `comments` (top-level comments, each with `.replies`), `comment_count`,
`comments_open`, the pre-built `comments_html` and `comment_form_html` the partial
templates place, and `comments_feed_url`. The build also writes output/comments.json and
Atom feeds of comments. A comment file that is wrong stops the build, naming the file.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican import signals

from . import cache as comment_cache
from .comments_json import post_index_entry, write_comments_index
from .feeds import atom_feed, entry_xml, fill_post, post_entries_xml
from .markup import comment_form, thread_html
from .prefetch import Job, Prefetch
from .reader import Comment, CommentFileError, Stamps, comment_id_from_name, scan_folders
from .settings import comment_settings
from .threads import build_thread

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
    # None when the prefetch job scans the folders itself (a first build).
    folders: dict[str, Stamps] | None
    cache: comment_cache.CommentCache
    prefetch: Prefetch


@dataclass
class CommentOutputs:
    """Files a build writes beside the pages: comments.json, and feeds as path -> (text,
    whether the text is new in this build)."""

    index: dict[str, Any] = field(default_factory=lambda: {"posts": {}})
    files: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # The plugin's cache to store once the files are written: (Pelican's settings, the
    # cache, the content keys this build used).
    cache: tuple[dict[str, Any], comment_cache.CommentCache, set[str]] | None = None
    writer: threading.Thread | None = None
    error: BaseException | None = None

    def write(self, output: Path, json_path: str) -> None:
        """Write every file into `output`, then the cache; an error is kept for
        write_outputs to raise."""
        try:
            write_comments_index(output / json_path, self.index)
            for relative, (text, is_new) in self.files.items():
                _write_feed(output / relative, text, is_new)
            if self.cache is not None:
                comment_cache.save(*self.cache)
        except BaseException as error:  # handed to the build's own thread
            self.error = error


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


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
    cache = comment_cache.load(settings, comment_cache.code_fingerprint(options))
    if cache.posts:
        folders = scan_folders(root)
        wanted = {}
        for slug, stamps in folders.items():
            entry = cache.posts.get(slug)
            if entry is None or entry.key != tuple(stamps):
                wanted[slug] = [name for name, _, _ in stamps]
        job = Job(root, wanted, options, timezone.key, cache.rendered)
    else:
        # Nothing cached: every file is to be read, so even the scan goes to the child.
        folders = None
        job = Job(root, None, options, timezone.key, cache.rendered)
    state = BuildState(options, timezone, root, folders, cache, Prefetch(job))
    generator.context[STATE_KEY] = state


def _feed_site(settings: dict[str, Any]) -> str:
    return (settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/")


def _latest_feed(
    latest: list[tuple[Comment, str, str]], options: dict[str, Any], settings: dict[str, Any]
) -> str:
    site = _feed_site(settings)
    latest.sort(key=lambda entry: entry[0].date, reverse=True)
    shown = latest[: options["FEED_ALL_LIMIT"]]
    return atom_feed(
        f"Latest comments - {settings.get('SITENAME', '')}",
        f"{site}/",
        f"{site}/{options['FEED_ALL']}",
        shown[0][0].date if shown else datetime(2000, 1, 1, tzinfo=UTC),
        "".join(entry_xml(*entry) for entry in shown),
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
    folders = state.folders if result.folders is None else result.folders
    _check_folders(state.root, folders, {article.slug for article in articles})
    cache.rendered.update(result.rendered)
    cache.dirty = cache.dirty or bool(result.posts)
    # For partials/comments_head.html, on every page that shows a post.
    generator.context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]
    # Where a reader without JavaScript collects her private removal link after posting
    # (the intake serves it once, beside the form's action).
    generator.context["COMMENT_RECEIPT_URL"] = options["FORM_ACTION"].rstrip("/") + "/receipt"

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
        stamps = tuple(folders.get(slug, ()))
        entry = fresh_posts.get(slug) or cache.posts.get(slug)
        if entry is None or entry.key != stamps:
            read = result.posts.get(slug)
            entry = comment_cache.PostEntry(stamps, [])
            if read is not None:
                entry.records, entry.html, entry.feed_entries = (
                    read.records,
                    read.html,
                    read.feed_entries,
                )
                entry.html_key = (True, state.timezone.key)
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
        sitename = generator.settings.get("SITENAME", "")
        feed_key = (article.title, url, site, sitename, article.date)
        feed_is_new = entry.feed_key != feed_key
        if feed_is_new:
            cache.dirty = True
            if not entry.feed_entries and comments:
                entry.feed_entries = post_entries_xml(comments)
            post_url = f"{site}/{url}"
            entry.feed_key = feed_key
            entry.feed = atom_feed(
                f"Comments on {article.title} - {sitename}",
                post_url,
                f"{site}/{article.comments_feed_url}",
                max((c.date for c in comments), default=article.date),
                fill_post(entry.feed_entries, article.title, post_url),
            )
            # Kept only until the feed is made: a cached feed rarely needs remaking.
            entry.feed_entries = ""
        outputs.files[article.comments_feed_url] = (entry.feed, feed_is_new)
        outputs.index["posts"][slug] = post_index_entry(article, url, comments)
        latest.extend((comment, article.title, f"{site}/{url}") for comment in comments)
    outputs.files[options["FEED_ALL"]] = (_latest_feed(latest, options, generator.settings), True)

    if fresh_posts.keys() != cache.posts.keys():
        cache.dirty = True
    cache.posts = fresh_posts
    # Nothing changes the cache after this. Storing it (tens of megabytes on a cold build
    # of a big site) is mostly writing, so the writer thread does it too.
    outputs.cache = (generator.settings, cache, used_keys)
    # Pelican has already emptied output/ (if it does) by now. Creating a thousand small
    # files is mostly waiting on the file system, which a thread does while Pelican goes
    # on rendering pages.
    outputs.writer = threading.Thread(
        target=outputs.write,
        args=(Path(generator.output_path), options["JSON_PATH"]),
        name="threaded_comments-writer",
        daemon=True,
    )
    outputs.writer.start()
    generator.context[OUTPUTS_KEY] = outputs


def _write_feed(path: Path, text: str, is_new: bool) -> None:
    # Rewriting an unchanged feed costs more than checking it, and keeps its date for
    # rsync. A feed cached from the last build is checked by size alone (output/ may have
    # been emptied since); a new one by its text.
    data = text.encode()
    try:
        if is_new:
            if path.read_bytes() == data:
                return
        elif path.stat().st_size == len(data):
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


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
