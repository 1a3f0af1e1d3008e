"""Leave an output file alone when a build would write the same bytes into it again, or,
in a selected build, when it cannot show what changed.

Pelican writes every page on every build, and on a rebuild most pages come out the same.
Writing a file over itself costs far more than reading it: the truncation frees its
blocks and the new ones are written out again (1 to 2 ms a page on an ext4 disk, against
0.04 ms to read and compare). Files left alone also keep their modification time, so
rsync, a CDN upload or livereload sees only what really changed.

A selected build (the setting `WRITE_SELECTED_SLUGS`, a list of slugs; Pelican's own
WRITE_SELECTED was removed) renders only the pages that show one of those posts or pages:
its own page (translations too) and the pages of paginated lists (home, category, tag)
that hold its summary. Every other page and Pelican's feeds are neither rendered nor
written: they stay as the last build left them. A page outside a paginated list, and a
paginated list holding none of those posts, are passed over before Pelican's writer
sees them, so content_written fires only for the pages rendered and the other pages of
the lists holding one; other plugins decide about their own files (threaded_comments
writes its feeds and comments.json; sitemap_dates and site_search, whose files show no
comments, leave them as they are). It suits a change that only those posts' pages show,
their comments for one; deciding that is the caller's job
(`moderation.deploy.plan_publish`).
"""

from __future__ import annotations

import io
import logging
from collections import ChainMap
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.utils import sanitised_join
from pelican.writers import Writer

logger = logging.getLogger(__name__)

SELECTED_SETTING = "WRITE_SELECTED_SLUGS"


class _WriteIfChanged(io.StringIO):
    """A text stream for one output file, written out on close only if it differs."""

    def __init__(self, path: str, encoding: str) -> None:
        super().__init__()
        self._path = Path(path)
        self._encoding = encoding

    def close(self) -> None:
        if not self.closed:
            data = self.getvalue().encode(self._encoding)
            try:
                unchanged = self._path.read_bytes() == data
            except FileNotFoundError:
                unchanged = False
            if unchanged:
                logger.debug("unchanged_files: %s is unchanged", self._path)
            else:
                self._path.write_bytes(data)
        super().close()


class _Unwritten(io.StringIO):
    """The stream of a page a selected build leaves as it is: nothing reaches the disk."""


def shows_selected(localcontext: Mapping[str, Any], slugs: Collection[str]) -> bool:
    """Whether the page of this template context shows one of the posts named by `slugs`:
    it is the post's own page, or a page of a paginated list holding its summary."""
    shown = [localcontext.get("article"), localcontext.get("page")]
    if "articles_page" in localcontext:
        shown += localcontext["articles_page"].object_list
    return any(getattr(content, "slug", None) in slugs for content in shown)


class _SelectedTemplate:
    """A page template that renders only the pages showing a selected post; for the
    others it names their file to the writer, which then leaves it alone."""

    def __init__(self, template: Any, writer: UnchangedFilesWriter, slugs: frozenset[str]):
        self._template = template
        self._writer = writer
        self._slugs = slugs

    def render(self, localcontext: dict[str, Any]) -> str:
        if shows_selected(localcontext, self._slugs):
            return self._template.render(localcontext)
        self._writer.unrendered.add(
            sanitised_join(self._writer.output_path, localcontext["output_file"])
        )
        return ""


class UnchangedFilesWriter(Writer):
    """Pelican's Writer, but a file is only written when its bytes change; in a selected
    build, only the pages showing a selected post are rendered at all."""

    def __init__(self, output_path: str, settings: dict[str, Any] | None = None) -> None:
        super().__init__(output_path, settings)
        slugs = (settings or {}).get(SELECTED_SETTING)
        self.selected: frozenset[str] | None = None if slugs is None else frozenset(slugs)
        # Pages of this selected build that were not rendered, by their file's path.
        self.unrendered: set[str] = set()

    def write_file(
        self,
        name: Any,
        template: Any,
        context: Any,
        relative_urls: bool = False,
        paginated: dict[str, Any] | None = None,
        template_name: str | None = None,
        override_output: bool = False,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if self.selected is not None:
            if not self._may_show(self.selected, context, paginated, template_name, kwargs):
                # Passed over before Pelican copies the context for it, works out its path
                # and, for a list, makes its pages: every other post's page, the archives,
                # and the tags' and categories' lists the post is not on.
                return
            template = _SelectedTemplate(template, self, self.selected)
        super().write_file(
            name,
            template,
            context,
            relative_urls,
            paginated,
            template_name,
            override_output,
            url,
            **kwargs,
        )

    def _may_show(
        self,
        slugs: frozenset[str],
        context: dict[str, Any],
        paginated: dict[str, Any] | None,
        template_name: str | None,
        kwargs: dict[str, Any],
    ) -> bool:
        """Whether a page this call writes may show one of the posts named by `slugs`: its
        template context does (a post's own page), or it is a paginated list holding one
        (which of the list's pages holds it is known once Writer.write_file has made them,
        in _SelectedTemplate)."""
        if shows_selected(ChainMap(kwargs, context), slugs):
            return True
        # Writer.write_file's own test for a list it paginates.
        if paginated is None:
            paginated = {key: kwargs[key] for key in ("articles", "dates") if key in kwargs}
        if not paginated or template_name not in self.settings["PAGINATED_TEMPLATES"]:
            return False
        # Each page's summaries (articles_page) are a slice of the list's articles.
        return any(getattr(post, "slug", None) in slugs for post in paginated.get("articles", ()))

    def write_feed(self, *args: Any, **kwargs: Any) -> Any:
        # Pelican's feeds carry posts' text, never their comments.
        if self.selected is not None:
            return None
        return super().write_feed(*args, **kwargs)

    def _open_w(self, filename: str, encoding: str, override: bool = False) -> Any:
        if filename in self.unrendered:
            self.unrendered.discard(filename)
            return _Unwritten()
        if filename in self._written_files or filename in self._overridden_files:
            # A file written twice in one build: Pelican's own rules (skip, override or
            # fail) apply, so it decides.
            return super()._open_w(filename, encoding, override)
        if override:
            self._overridden_files.add(filename)
        self._written_files.add(filename)
        return _WriteIfChanged(filename, encoding)


def provide_writer(pelican: Any) -> type[Writer]:
    """The writer Pelican asks plugins for."""
    return UnchangedFilesWriter


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.get_writer.connect(provide_writer)
