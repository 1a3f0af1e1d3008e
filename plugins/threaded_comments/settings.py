"""The plugin's settings: one THREADED_COMMENTS dict in pelicanconf.py over these defaults."""

from __future__ import annotations

from typing import Any

SETTINGS_KEY = "THREADED_COMMENTS"

DEFAULTS: dict[str, Any] = {
    # Folder under the content PATH that holds <post-slug>/<comment-id>.md.
    "PATH": "comments",
    # WordPress's default: replies deeper than this are shown at this depth.
    "MAX_DEPTH": 5,
    # "oldest" or "newest" first, within each level of a thread.
    "ORDER": "oldest",
    # Close comments on posts older than this many days; None keeps them open.
    "CLOSE_AFTER_DAYS": None,
    "FORM_ACTION": "/api/comments",
    "LIKES_ACTION": "/api/likes",
    "DATE_FORMAT": "%-d %B %Y at %H:%M",
    # Output paths, relative to OUTPUT_PATH.
    "JSON_PATH": "comments.json",
    "FEED_ALL": "feeds/comments.atom.xml",
    "FEED_POST": "feeds/comments/{slug}.atom.xml",
    "FEED_ALL_LIMIT": 50,
}


class SettingsError(ValueError):
    """A THREADED_COMMENTS value the plugin cannot work with."""


def comment_settings(pelican_settings: dict[str, Any]) -> dict[str, Any]:
    """The plugin's settings: DEFAULTS overlaid with THREADED_COMMENTS, checked."""
    given = pelican_settings.get(SETTINGS_KEY) or {}
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise SettingsError(f"threaded_comments: unknown {SETTINGS_KEY} keys {sorted(unknown)}")
    merged = {**DEFAULTS, **given}
    if merged["ORDER"] not in ("oldest", "newest"):
        raise SettingsError(
            f"threaded_comments: {SETTINGS_KEY}['ORDER'] must be 'oldest' or 'newest', "
            f"not {merged['ORDER']!r}"
        )
    if not isinstance(merged["MAX_DEPTH"], int) or merged["MAX_DEPTH"] < 1:
        raise SettingsError(f"threaded_comments: {SETTINGS_KEY}['MAX_DEPTH'] must be >= 1")
    days = merged["CLOSE_AFTER_DAYS"]
    if days is not None and (not isinstance(days, int) or days < 0):
        raise SettingsError(
            f"threaded_comments: {SETTINGS_KEY}['CLOSE_AFTER_DAYS'] must be None or >= 0"
        )
    return merged
