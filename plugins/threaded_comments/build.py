"""What the plugin does in a Pelican build, one function per signal (see register()).

1. `exclude_comment_folder` (initialized): Pelican must not read comment files as posts.
2. `attach_to_articles` (article_generator_finalized): find the comment folders, then give
   every article its comments: read, rendered, threaded and placed in the thread template,
   or taken from the cache when nothing they came from changed.
3. `attach_to_pages` (page_generator_finalized): the same for pages with `Comments: open`;
   then a comment folder left over, for no post or page, stops the build.
4. `write_outputs` (page_writer_finalized, once output/ is ready): comments.json, the Atom
   feeds, and the cache.

Errors raised in these handlers reach Pelican's main(), which exits non-zero.
"""

from __future__ import annotations

import heapq
import logging
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, Template
from pelican.generators import PelicanTemplateNotFound

from .atomic import holds
from .cache import CommentCache, Span, code_fingerprint
from .comment_file import CommentFile, CommentFileError
from .comments_json import PostEntry, write_comments_json
from .feeds import atom_feed, feed_entries
from .folders import CommentFolder, find_comment_folders, read_comment_folder
from .rendering import render_comment_markdown
from .settings import comment_settings
from .threads import Comment, ThreadHtml, ThreadOnDemand, build_thread

logger = logging.getLogger(__name__)

# The key of this build's CommentsBuild in the generators' shared context.
STATE_KEY = "threaded_comments_build"
THREAD_TEMPLATE = "partials/comment_thread"
# The plugin's own, plain THREAD_TEMPLATE, for a theme that has none.
DEFAULT_TEMPLATES = Path(__file__).parent / "templates"
# A feed's <updated> when nothing in it has a date.
NO_DATE = datetime(2000, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A comment and the author's reply to it, with every optional field between them.
SAMPLE_THREAD = (
    CommentFile(
        id="sample-1",
        author="Sample Reader",
        date=NO_DATE,
        body="A comment.",
        website="https://reader.example.org",
        likes=2,
    ),
    CommentFile(
        id="sample-2",
        author="Sample Author",
        date=NO_DATE,
        body="A reply.",
        replyto="sample-1",
        author_role="author",
    ),
)


class PostFeed(NamedTuple):
    """A post's comments as Atom entries, newest first: its feed, and the first FEED_ALL_LIMIT
    of them its candidates for the site-wide feed, which takes the newest by `entry_times`
    (each entry's date in microseconds since 1970). `newest`: the newest comment's date."""

    entries: tuple[str, ...]
    entry_times: tuple[int, ...]
    newest: datetime | None


class PostComments(NamedTuple):
    """What a post's comment files come to, as the cache keeps it: strings, bytes and small
    tuples only, so that an unchanged post costs a rebuild no parsing and next to no objects.
    The two big ones, `html` and `feed`, are the cache's texts (CACHED_TEXTS): in a post
    from the cache, each is a Span of the cache's texts file, read when it is needed."""

    # The thread as the theme's partials/comment_thread.html makes it ("" without comments).
    html: str | Span
    # For comments.json: the comment ids in file-name order, and each one's likes.
    ids: tuple[str, ...]
    likes: tuple[int, ...]
    # Its PostFeed, pickled: the cache then loads a post's feed as one bytes object, with
    # no text to decode, and a build unpickles it only to write a feed (which a rebuild
    # with nothing changed does not do).
    feed: bytes | Span
    # The post's feed file as this plugin last wrote or found it, (mtime_ns, size): while
    # it is so, the feed is not made again (None: not written yet).
    feed_stamp: tuple[int, int] | None = None


CACHED_TEXTS = ("html", "feed")


@dataclass
class CommentsBuild:
    """The plugin's state during one build."""

    options: dict[str, Any]
    timezone: ZoneInfo
    root: Path
    folders: dict[str, CommentFolder]
    thread_template: Template
    # Absolute site address for the feeds.
    site: str
    sitename: str
    cache: CommentCache = field(init=False)
    # Articles and pages whose comments are published: in comments.json and the feeds.
    published: list[Any] = field(default_factory=list)
    # Slug -> its comments, for every post or page that takes them, and its URL (Pelican
    # works a URL out on each access, at a tenth of a millisecond).
    posts: dict[str, PostComments] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


def _thread_template(generator: Any) -> Template:
    """The theme's partials/comment_thread.html, or the plugin's own if the theme has none."""
    try:
        return generator.get_template(THREAD_TEMPLATE)
    except PelicanTemplateNotFound:
        logger.info(
            "threaded_comments: the theme has no %s.html; using the plugin's own from %s",
            THREAD_TEMPLATE,
            DEFAULT_TEMPLATES,
        )
    # The theme's environment (its filters and settings), loading from the plugin only.
    environment = generator.env.overlay(loader=FileSystemLoader(DEFAULT_TEMPLATES))
    return environment.get_template(f"{THREAD_TEMPLATE}.html")


def _start(generator: Any) -> CommentsBuild:
    settings = generator.settings
    options = comment_settings(settings)
    timezone = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    template = _thread_template(generator)
    root = Path(generator.path) / options["PATH"]
    build = CommentsBuild(
        options=options,
        timezone=timezone,
        root=root,
        folders=find_comment_folders(root),
        thread_template=template,
        site=(settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/"),
        sitename=settings.get("SITENAME", ""),
    )
    template_text = Path(template.filename).read_text(encoding="utf-8")
    fingerprint = code_fingerprint(options, template_text, timezone.key, _sample_thread_html(build))
    build.cache = CommentCache(settings, fingerprint, CACHED_TEXTS)
    context = generator.context
    # For the theme's partials: the settings (FORM_ACTION, ...), the site-wide feed, and
    # where a reader without JavaScript collects her private removal link after posting
    # (the intake serves it once, beside the form's action).
    context["COMMENT_SETTINGS"] = options
    context["COMMENTS_FEED_ALL"] = options["FEED_ALL"]
    context["COMMENT_RECEIPT_URL"] = options["FORM_ACTION"].rstrip("/") + "/receipt"
    return build


def _is_open(content: Any, options: dict[str, Any], now: datetime) -> bool:
    if str(content.metadata.get("comments", "")).strip().lower() == "closed":
        return False
    days = options["CLOSE_AFTER_DAYS"]
    if days is None or getattr(content, "date", None) is None:
        return True
    date = content.date if content.date.tzinfo else content.date.replace(tzinfo=UTC)
    return now - date <= timedelta(days=days)


def _comment(build: CommentsBuild, path: str, file: CommentFile) -> Comment:
    shown = file.date.astimezone(build.timezone)
    return Comment(
        file,
        path,
        render_comment_markdown(file.body),
        date_iso=shown.isoformat(),
        date_text=shown.strftime(build.options["DATE_FORMAT"]),
    )


def _read_comments(build: CommentsBuild, folder: CommentFolder | None) -> list[Comment]:
    """The post's comments, read and rendered, in file-name order."""
    files = read_comment_folder(folder, build.timezone) if folder else []
    return [_comment(build, path, file) for path, file in files]


def _thread(build: CommentsBuild, comments: list[Comment]) -> list[Comment]:
    """The top-level comments, each with its replies."""
    options = build.options
    return build_thread(comments, options["MAX_DEPTH"], options["ORDER"] == "newest")


def _read_thread(build: CommentsBuild, folder: CommentFolder | None) -> list[Comment]:
    return _thread(build, _read_comments(build, folder))


def _thread_html(build: CommentsBuild, slug: str, is_open: bool, top_level: list[Comment]) -> str:
    """The thread as the theme's partials/comment_thread.html makes it."""
    return build.thread_template.render(
        comments=top_level,
        post=slug,
        comments_open=is_open,
        COMMENT_SETTINGS=build.options,
        timezone=build.timezone,
    )


def _sample_thread_html(build: CommentsBuild) -> str:
    """A made-up thread, for the cache's fingerprint: the cached threads are made again when
    what their markup depends on beyond the template's own text changes, such as a filter
    another plugin adds (avatars keyed with IDENTICON_SECRET) or a template it includes."""
    comments = [_comment(build, "", file) for file in SAMPLE_THREAD]
    return _thread_html(build, "sample", True, _thread(build, comments))


def _make_post(
    build: CommentsBuild,
    content: Any,
    post_url: str,
    is_open: bool,
    comments: list[Comment],
    top_level: list[Comment],
) -> PostComments:
    """The thread's HTML, what comments.json needs and the feed, from the post's comments
    (in file-name order) and its thread."""
    html = _thread_html(build, content.slug, is_open, top_level) if top_level else ""
    newest_first = sorted(comments, key=lambda comment: comment.file.date, reverse=True)
    feed = PostFeed(
        entries=tuple(feed_entries(newest_first, content.title, post_url)),
        entry_times=tuple((comment.file.date - EPOCH) // MICROSECOND for comment in newest_first),
        newest=newest_first[0].file.date if newest_first else None,
    )
    return PostComments(
        html=html,
        ids=tuple(comment.file.id for comment in comments),
        likes=tuple(comment.file.likes for comment in comments),
        feed=pickle.dumps(feed, protocol=pickle.HIGHEST_PROTOCOL),
    )


def _feed(build: CommentsBuild, post: PostComments) -> PostFeed:
    data = build.cache.read(post.feed) if isinstance(post.feed, Span) else post.feed
    return pickle.loads(data)  # noqa: S301 (the plugin's own cache)


def _html(build: CommentsBuild, post: PostComments) -> str:
    return build.cache.read(post.html).decode() if isinstance(post.html, Span) else post.html


def _post_feed(build: CommentsBuild, content: Any, post_url: str, feed: PostFeed) -> str:
    return atom_feed(
        f"Comments on {content.title} - {build.sitename}",
        post_url,
        f"{build.site}/{content.comments_feed_url}",
        # A page may have no date; its feed then dates from its newest comment, if any.
        feed.newest or getattr(content, "date", None) or NO_DATE,
        list(feed.entries),
    )


def _attach(build: CommentsBuild, content: Any, is_open: bool) -> None:
    """Give an article or page its comments, from the cache if nothing they came from changed.

    A post's stamp holds everything of the post that its thread and feed are made of;
    what every post's depend on is in the whole cache's fingerprint (code_fingerprint).
    """
    slug, url = content.slug, content.url
    folder = build.folders.get(slug)
    post_url = f"{build.site}/{url}"
    date = getattr(content, "date", None)  # pages may have none
    names, times = (folder.names, folder.stamp) if folder else ((), ())
    stamp = (names, times, is_open, content.title, date, post_url, build.sitename)
    # Keyed by URL: a post's translations share its slug and comments, not its title.
    post = build.cache.get_post(url, stamp)
    if post is None:
        comments = _read_comments(build, folder)
        top_level = _thread(build, comments)
        post = _make_post(build, content, post_url, is_open, comments, top_level)
        build.cache.store_post(url, stamp, post)
    # Its files are read again only if a template walks the comments: keeping every
    # post's Comment objects until the pages are written would make the build hold (and
    # the garbage collector walk) twenty thousand of them for nothing the theme shows.
    content.comments = ThreadOnDemand(partial(_read_thread, build, folder))
    # The post in the default language comes first and keeps its feed; translations
    # show the same comments.
    build.posts.setdefault(slug, post)
    build.urls.setdefault(slug, url)
    content.comment_count = len(post.ids)
    content.comments_open = is_open
    # Pelican's templates print it as it is (no autoescape), as they do content.content:
    # the thread template escapes everything but the sanitised bodies.
    content.comments_html = ThreadHtml(partial(_html, build, post), bool(post.ids))
    content.comments_feed_url = build.options["FEED_POST"].format(slug=slug)


def attach_to_articles(generator: Any) -> None:
    """Give every article (drafts, hidden ones and translations too) its comments."""
    build = generator.context[STATE_KEY] = _start(generator)
    now = datetime.now(UTC)
    for article in chain(
        generator.articles,
        generator.translations,
        generator.hidden_articles,
        generator.hidden_translations,
        generator.drafts,
        generator.drafts_translations,
    ):
        _attach(build, article, _is_open(article, build.options, now))
    build.published.extend(generator.articles)


def _takes_comments(page: Any) -> bool:
    # "closed" as on WordPress: the comments it has are shown, without a form.
    return str(page.metadata.get("comments", "")).strip().lower() in ("open", "closed")


def attach_to_pages(generator: Any) -> None:
    """Give pages with `Comments: open` their comments; then check that every comment
    folder belongs to an article or such a page."""
    build: CommentsBuild = generator.context[STATE_KEY]
    now = datetime.now(UTC)
    pages = chain(
        generator.pages,
        generator.translations,
        generator.hidden_pages,
        generator.hidden_translations,
        generator.draft_pages,
        generator.draft_translations,
    )
    for page in pages:
        if _takes_comments(page):
            _attach(build, page, _is_open(page, build.options, now))
    build.published.extend(page for page in generator.pages if _takes_comments(page))
    for slug in sorted(build.folders.keys() - build.posts.keys()):
        raise CommentFileError(
            build.root / slug,
            f"is a comment folder for no post or page (no slug {slug!r}; a page takes "
            "comments with 'Comments: open')",
        )


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode()
    if not holds(path, data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _modified(content: Any) -> str:
    modified = getattr(content, "modified", None) or getattr(content, "date", None)
    return modified.isoformat() if modified else ""


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Write comments.json and the comment feeds into the output folder, then the cache.

    A post's feed is made again only if its comments, title or URL changed (the post is
    not from the cache) or its file is not as the last build left it: on a rebuild, and
    in the unchanged_files plugin's selected build, the other posts' feeds are only
    stat'ed. comments.json and the site-wide feed are made again only if a post is not
    from the cache, the published posts differ, or either file is not as last written.
    """
    build: CommentsBuild | None = generator.context.pop(STATE_KEY, None)
    if build is None:
        return
    output = Path(generator.output_path)
    options = build.options
    # Slug -> its feed, as unpickled for the post's own feed file, for the site-wide one.
    feeds: dict[str, PostFeed] = {}
    for content in build.published:
        post, url = build.posts[content.slug], build.urls[content.slug]
        feed_path = output / content.comments_feed_url
        stamp = _file_stamp(feed_path)
        if stamp is None or stamp != post.feed_stamp:
            feed = feeds[content.slug] = _feed(build, post)
            _write_if_changed(feed_path, _post_feed(build, content, f"{build.site}/{url}", feed))
            build.cache.update_post(url, post._replace(feed_stamp=_file_stamp(feed_path)))
    inputs = _site_file_inputs(build)
    site_files = (output / options["JSON_PATH"], output / options["FEED_ALL"])
    if not build.cache.site_files_current(inputs, tuple(map(_file_stamp, site_files))):
        _write_site_files(build, site_files, feeds)
        build.cache.record_site_files(inputs, tuple(map(_file_stamp, site_files)))
    build.cache.save()


def _site_file_inputs(build: CommentsBuild) -> tuple[tuple[Any, ...], ...]:
    """What comments.json and the site-wide feed are made of, beyond the posts' comments:
    each published post's slug, URL, title, whether it is open, and its date."""
    return tuple(
        (
            content.slug,
            build.urls[content.slug],
            content.title,
            content.comments_open,
            _modified(content),
        )
        for content in build.published
    )


def _post_entry(build: CommentsBuild, content: Any) -> PostEntry:
    post = build.posts[content.slug]
    return PostEntry(
        slug=content.slug,
        url=f"/{build.urls[content.slug]}",
        title=content.title,
        open=content.comments_open,
        modified=_modified(content),
        comments=post.ids,
        likes=dict(zip(post.ids, post.likes, strict=True)),
    )


def _write_site_files(
    build: CommentsBuild, site_files: tuple[Path, Path], loaded: dict[str, PostFeed]
) -> None:
    """comments.json, and the site-wide feed of the latest comments (from the posts'
    feeds: those in `loaded`, and the others read from the cache)."""
    json_path, feed_all_path = site_files
    options = build.options
    write_comments_json(json_path, (_post_entry(build, content) for content in build.published))
    # Each post's own newest comments are its only candidates.
    limit = options["FEED_ALL_LIMIT"]
    feeds = [
        loaded.get(content.slug) or _feed(build, build.posts[content.slug])
        for content in build.published
    ]
    latest = heapq.nlargest(
        limit,
        chain.from_iterable(
            zip(feed.entry_times[:limit], feed.entries[:limit], strict=True) for feed in feeds
        ),
        key=itemgetter(0),
    )
    newest = max((feed.newest for feed in feeds if feed.newest is not None), default=NO_DATE)
    _write_if_changed(
        feed_all_path,
        atom_feed(
            f"Latest comments - {build.sitename}",
            f"{build.site}/",
            f"{build.site}/{options['FEED_ALL']}",
            newest if latest else NO_DATE,
            [entry for _, entry in latest],
        ),
    )
