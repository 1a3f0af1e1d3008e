"""pelican-sitemap, with dates that change only when the site does.

pelican-sitemap gives each list page (the index, archives, tags) and each page without a date
the build's clock time as its ``<lastmod>``. So every build wrote a new ``sitemap.xml``, every
``invoke deploy`` sent it again, and search engines were told that every list changed on every
rebuild. A list page changes when a post does, so this plugin gives those entries the date of
the newest post (its ``modified`` date when it has one) and leaves everything else to
pelican-sitemap: list this plugin in ``PLUGINS`` instead of ``pelican.plugins.sitemap``. Its
settings are pelican-sitemap's own ``SITEMAP`` dict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pelican import contents, signals
from pelican.plugins.sitemap.sitemap import SitemapGenerator
from unchanged_files import SELECTED_SETTING


class SitemapWithStableDates(SitemapGenerator):
    """pelican-sitemap's generator, with the newest post's date where it would use the clock."""

    def finalize(self, pelican: Any) -> None:
        newest = _newest_post_date(obj for _, obj in self.page_queue)
        if newest is not None:
            # pelican-sitemap (~=1.2.2, pinned) reads ``self.now`` for exactly those entries.
            self.now = newest
        super().finalize(pelican)

    def _write_out(self, pelican: Any) -> None:
        # A selected build (unchanged_files) adds, removes and redates no page: the sitemap
        # the last build wrote stands.
        if pelican.settings.get(SELECTED_SETTING) is None:
            super()._write_out(pelican)


def _newest_post_date(written: Any) -> datetime | None:
    dates = [
        getattr(obj, "modified", None) or obj.date
        for obj in written
        if isinstance(obj, contents.Article)
    ]
    return max(dates, default=None)


# Module level, as pelican-sitemap does: blinker keeps only a weak reference to a bound method.
generator = SitemapWithStableDates()


def register() -> None:
    signals.get_generators.connect(generator.init)
    signals.content_written.connect(generator.queue_page)
    signals.finalized.connect(generator.finalize)
