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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Template

from .cache import CommentCache, code_fingerprint
from .comment_file import CommentFile, CommentFileError
from .comments_json import PostEntry, write_comments_json
from .feeds import atom_feed, feed_entry
from .folders import (
    CommentFolder,
    comment_file_paths,
    find_comment_folders,
    read_comment_folder,
)
from .rendering import render_comment_markdown
from .settings import comment_settings
from .threads import Comment, build_thread

# The key of this build's CommentsBuild in the generators' shared context.
STATE_KEY = "threaded_comments_build"
THREAD_TEMPLATE = "partials/comment_thread"
# A feed's <updated> when nothing in it has a date.
NO_DATE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class PostComments:
    """What a post's comment files come to, as the cache keeps it: the costly parts."""

    # The comment files, parsed, in file-name order, and each one's body as safe HTML.
    files: list[CommentFile]
    contents: list[str]
    # The thread as the theme's partials/comment_thread.html makes it ("" without comments).
    html: str
    # The post's Atom feed of comments.
    feed: str


@dataclass
class CommentsBuild:
    """The plugin's state during one build."""

    options: dict[str, Any]
    timezone: ZoneInfo
    root: Path
    folders: dict[str, CommentFolder]
    thread_template: Template
    cache: CommentCache
    # Absolute site address for the feeds.
    site: str
    sitename: str
    # Articles and pages whose comments are published: in comments.json and the feeds.
    published: list[Any] = field(default_factory=list)
    # Slug -> its comments as Comment objects in file-name order, for every post or page
    # that takes them.
    comments: dict[str, list[Comment]] = field(default_factory=dict)
    # Slug -> its Atom feed of comments.
    feeds: dict[str, str] = field(default_factory=dict)


def exclude_comment_folder(pelican: Any) -> None:
    """Keep Pelican from reading comment files as articles or pages."""
    folder = comment_settings(pelican.settings)["PATH"]
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        # A new list: the default one may be shared with Pelican's DEFAULT_CONFIG.
        pelican.settings[key] = [*pelican.settings.get(key, []), folder]


def _start(generator: Any) -> CommentsBuild:
    settings = generator.settings
    options = comment_settings(settings)
    timezone = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    template = generator.get_template(THREAD_TEMPLATE)
    template_text = Path(template.filename).read_text(encoding="utf-8")
    fingerprint = code_fingerprint(options, template_text, timezone.key)
    root = Path(generator.path) / options["PATH"]
    build = CommentsBuild(
        options=options,
        timezone=timezone,
        root=root,
        folders=find_comment_folders(root),
        thread_template=template,
        cache=CommentCache(settings, fingerprint),
        site=(settings.get("FEED_DOMAIN") or settings.get("SITEURL") or "").rstrip("/"),
        sitename=settings.get("SITENAME", ""),
    )
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


def _comments(folder: CommentFolder | None, post: PostComments) -> list[Comment]:
    """The post's comments as templates see them, not yet threaded."""
    if folder is None:
        return []
    paths = comment_file_paths(folder)
    return [
        Comment(file, path, content)
        for file, path, content in zip(post.files, paths, post.contents, strict=True)
    ]


def _thread(build: CommentsBuild, comments: list[Comment]) -> list[Comment]:
    options = build.options
    return build_thread(comments, options["MAX_DEPTH"], options["ORDER"] == "newest")


def _post_feed(build: CommentsBuild, content: Any, post_url: str, comments: list[Comment]) -> str:
    newest_first = sorted(comments, key=lambda comment: comment.file.date, reverse=True)
    feed_url = build.options["FEED_POST"].format(slug=content.slug)
    return atom_feed(
        f"Comments on {content.title} - {build.sitename}",
        post_url,
        f"{build.site}/{feed_url}",
        # A page may have no date; its feed then dates from its newest comment, if any.
        newest_first[0].file.date if newest_first else getattr(content, "date", None) or NO_DATE,
        [feed_entry(comment, content.title, post_url) for comment in newest_first],
    )


def _attach(build: CommentsBuild, content: Any, is_open: bool) -> None:
    """Give an article or page its comments, from the cache if nothing they came from changed.

    A post's stamp holds everything of the post that its thread and feed are made of;
    what every post's depend on is in the whole cache's fingerprint (code_fingerprint).
    """
    slug, url = content.slug, content.url  # Pelican works a URL out on each access
    folder = build.folders.get(slug)
    post_url = f"{build.site}/{url}"
    date = getattr(content, "date", None)  # pages may have none
    stamps = folder.stamps if folder else ()
    stamp = (stamps, is_open, content.title, date, post_url, build.sitename)
    # Keyed by URL: a post's translations share its slug and comments, not its title.
    post = build.cache.get_post(url, stamp)
    if post is not None:
        comments = _comments(folder, post)
        top_level = _thread(build, comments)
    else:
        files = read_comment_folder(folder, build.timezone) if folder else []
        comments = [Comment(file, path, render_comment_markdown(file.body)) for path, file in files]
        top_level = _thread(build, comments)
        html = ""
        if top_level:
            html = build.thread_template.render(
                comments=top_level,
                post=slug,
                comments_open=is_open,
                COMMENT_SETTINGS=build.options,
                timezone=build.timezone,
            )
        post = PostComments(
            files=[comment.file for comment in comments],
            contents=[comment.content for comment in comments],
            html=html,
            feed=_post_feed(build, content, post_url, comments),
        )
        build.cache.store_post(url, stamp, post)
    # The post in the default language comes first and keeps its feed; translations
    # show the same comments.
    build.comments.setdefault(slug, comments)
    build.feeds.setdefault(slug, post.feed)
    content.comments = top_level
    content.comment_count = len(comments)
    content.comments_open = is_open
    # Pelican's templates print it as it is (no autoescape), as they do content.content:
    # the thread template escapes everything but the sanitised bodies.
    content.comments_html = post.html
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
    return str(page.metadata.get("comments", "")).strip().lower() == "open"


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
    for slug in sorted(build.folders.keys() - build.comments.keys()):
        raise CommentFileError(
            build.root / slug,
            f"is a comment folder for no post or page (no slug {slug!r}; a page takes "
            "comments with 'Comments: open')",
        )


def _write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged file costs more than checking it, and keeps its date for rsync.
    data = text.encode()
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_outputs(generator: Any, writer: Any = None) -> None:
    """Write comments.json and the comment feeds into the output folder, then the cache."""
    build: CommentsBuild | None = generator.context.pop(STATE_KEY, None)
    if build is None:
        return
    output = Path(generator.output_path)
    options = build.options
    index: list[PostEntry] = []
    for content in build.published:
        _write_if_changed(output / content.comments_feed_url, build.feeds[content.slug])
        comments = build.comments[content.slug]
        modified = getattr(content, "modified", None) or getattr(content, "date", None)
        index.append(
            PostEntry(
                slug=content.slug,
                url=f"/{content.url}",
                title=content.title,
                open=content.comments_open,
                modified=modified.isoformat() if modified else "",
                comments=tuple(comment.file.id for comment in comments),
                likes={comment.file.id: comment.file.likes for comment in comments},
            )
        )
    write_comments_json(output / options["JSON_PATH"], index)
    latest = heapq.nlargest(
        options["FEED_ALL_LIMIT"],
        (
            (comment, content)
            for content in build.published
            for comment in build.comments[content.slug]
        ),
        key=lambda pair: pair[0].file.date,
    )
    _write_if_changed(
        output / options["FEED_ALL"],
        atom_feed(
            f"Latest comments - {build.sitename}",
            f"{build.site}/",
            f"{build.site}/{options['FEED_ALL']}",
            latest[0][0].file.date if latest else NO_DATE,
            [
                feed_entry(comment, content.title, f"{build.site}/{content.url}")
                for comment, content in latest
            ],
        ),
    )
    build.cache.save()
