"""A small local avatar for each commenter, in place of Gravatar.

Gravatar looks a reader up by a hash of her email, which anyone can compute, and her
browser asks gravatar.com for it on every page. Here the picture is a 5 by 5 symmetric
pattern drawn from an HMAC of her *name* under the site's own secret (IDENTICON_SECRET),
written into the page as a small inline SVG (no data: URI, which the site keeps out of
its pages): no email involved, no request leaves the site, and the same name gives another
picture on another site, so pictures cannot link a reader across blogs.

Templates use it as a filter: `{{ file.author|identicon }}` is the whole <svg> element,
hidden from screen readers (her name is written beside it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache, partial
from typing import Any

from pelican import signals

log = logging.getLogger(__name__)

SECRET_SETTING = "IDENTICON_SECRET"  # noqa: S105 (the setting's name, not a secret)
GRID = 5
# Columns drawn from the hash; the rest mirror them, as faces and most marks are symmetric.
DRAWN_COLUMNS = (GRID + 1) // 2


def identicon_svg(name: str, secret: str) -> str:
    """The avatar for `name` (case and surrounding space ignored) as an inline <svg>."""
    key = " ".join(name.split()).casefold().encode()
    digest = hmac.new(secret.encode(), key, hashlib.sha256).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    bits = int.from_bytes(digest[2:6], "big")
    # Each column's filled cells as vertical runs, one rectangle a run: a third of the
    # markup of a square a cell, and every comment carries one of these.
    runs = []
    for column in range(DRAWN_COLUMNS):
        row = 0
        while row < GRID:
            if bits >> (column * GRID + row) & 1:
                top = row
                while row < GRID and bits >> (column * GRID + row) & 1:
                    row += 1
                for x in {column, GRID - 1 - column}:
                    runs.append(f"M{x} {top}h1v{row - top}h-1z")
            row += 1
    # Mid tones, so the picture reads on the light and the dark background alike.
    return (
        f'<svg class="comment-avatar" viewBox="-0.5 -0.5 {GRID + 1} {GRID + 1}" width="40" '
        'height="40" aria-hidden="true" focusable="false" shape-rendering="crispEdges">'
        f'<rect x="-0.5" y="-0.5" width="{GRID + 1}" height="{GRID + 1}" '
        f'fill="hsl({hue} 35% 86%)"/>'
        f'<path fill="hsl({hue} 45% 38%)" d="{"".join(runs)}"/></svg>'
    )


def add_filter(generator: Any) -> None:
    """Give this generator's templates the `identicon` filter, keyed with the site's secret.

    Added to the generator's Jinja environment, not to JINJA_FILTERS: Pelican's content
    cache pickles the settings, and a function in them would tie the cache to this code."""
    secret = generator.settings.get(SECRET_SETTING)
    if not secret:
        # Still local and still not from the email; only the cross-site unlinkability is lost.
        log.warning(
            "identicons: %s is not set; avatars use the site's name as the key", SECRET_SETTING
        )
        secret = generator.settings.get("SITENAME", "")
    # Drawn once per name and build: most of a blog's comments come from readers who
    # comment often, and drawing costs more than the rest of a comment's markup.
    generator.env.filters["identicon"] = cache(partial(identicon_svg, secret=secret))


def register() -> None:
    signals.generator_init.connect(add_filter)
