"""Threaded comments and likes for Pelican, read from content/comments/<slug>/<id>.md.

Each article (and each page with `Comments: open`) gets `comments` (top-level `Comment`s,
each with `.replies`), `comment_count`, `comments_open`, `comments_html` (the thread, made
by the theme's partials/comment_thread.html) and `comments_feed_url`. The build also
writes output/comments.json and Atom feeds of comments. A comment file that is wrong
stops the build, naming the file.

The modules, one job each: settings (THREADED_COMMENTS), comment_file, comments_json and
atomic (the contracts moderation/ builds on), folders (finding and reading comment
folders), threads (the `Comment` templates see, and threading), rendering (a body's
Markdown to safe HTML), feeds (Atom), cache, and build (the signal handlers below).
"""

from __future__ import annotations

from pelican import signals

from .atomic import atomic_write, remove_orphaned_temp_files
from .build import attach_to_articles, attach_to_pages, exclude_comment_folder, write_outputs
from .comment_file import (
    ID_PATTERN,
    WEBSITE_MAX,
    CommentFile,
    CommentFileError,
    comment_id_from_name,
    comment_path,
    format_comment_file,
    parse_comment_file,
    read_comment_file,
    website_problem,
)
from .comments_json import PostEntry, parse_comments_json, read_comments_json, write_comments_json
from .folders import find_comment_folders
from .rendering import NOT_IN_XML, render_comment_markdown, sanitize_html
from .settings import SettingsError, comment_settings
from .threads import Comment, likes_text

# The plugin's public surface: the contracts moderation/ and the importer build on.
__all__ = [
    "ID_PATTERN",
    "NOT_IN_XML",
    "WEBSITE_MAX",
    "Comment",
    "CommentFile",
    "CommentFileError",
    "PostEntry",
    "SettingsError",
    "atomic_write",
    "comment_id_from_name",
    "comment_path",
    "comment_settings",
    "find_comment_folders",
    "format_comment_file",
    "likes_text",
    "parse_comment_file",
    "parse_comments_json",
    "read_comment_file",
    "read_comments_json",
    "register",
    "remove_orphaned_temp_files",
    "render_comment_markdown",
    "sanitize_html",
    "website_problem",
    "write_comments_json",
]


def register() -> None:
    """Connect the plugin to Pelican's signals (see build.py for what each one does)."""
    signals.initialized.connect(exclude_comment_folder)
    signals.article_generator_finalized.connect(attach_to_articles)
    signals.page_generator_finalized.connect(attach_to_pages)
    signals.page_writer_finalized.connect(write_outputs)
