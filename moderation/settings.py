"""The one settings loader: a Pelican settings file (pelicanconf.py, publishconf.py) made
into one frozen `ProjectSettings`, with every path the tools use already resolved.

The tools' own options live in two dicts beside Pelican's settings, each over the defaults
defined once here (as the dataclass fields of `IntakeOptions` and `ModerationOptions`):

- COMMENT_INTAKE: the intake (`invoke serve`, `invoke intake`);
- MODERATION: `invoke moderate`.

An unknown key in either is refused, naming it, as THREADED_COMMENTS refuses its own
(`threaded_comments.comment_settings`). Relative paths are taken from the project folder,
the one holding the settings file. The environment variable COMMENT_INTAKE_INBOX, when set,
overrides INBOX_PATH for the intake and moderation alike (tests and a second checkout use it).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pelican.settings import DEFAULT_CONFIG, get_settings_from_file
from threaded_comments import SettingsError, comment_settings

INBOX_ENV = "COMMENT_INTAKE_INBOX"
# Where the build writes the theme's intake_page.html when INTAKE_PAGE_SAVE_AS is unset.
INTAKE_PAGE_DEFAULT = "intake_page.html"

OptionsT = TypeVar("OptionsT", "IntakeOptions", "ModerationOptions")


@dataclass(frozen=True)
class IntakeOptions:
    """COMMENT_INTAKE: each field is the lower-case name of a key, its default the default."""

    # The private inbox (SQLite), git-ignored; COMMENT_INTAKE_INBOX overrides it.
    inbox_path: str = "var/inbox.sqlite3"
    # The site's origin when the intake runs on another one (production); None: same origin.
    allowed_origin: str | None = None
    max_body_bytes: int = 64 * 1024
    # (events, seconds) per address; None switches a limit off.
    comment_rate_limit: tuple[int, int] | None = (5, 600)
    like_rate_limit: tuple[int, int] | None = (60, 60)
    # How long one salt recognises a reader's likes before it is replaced and forgotten.
    like_salt_days: int = 7
    # FULL: committed comments survive power loss; group commit keeps that fast.
    synchronous: str = "FULL"
    # At most this many requests share one transaction (group commit).
    max_batch: int = 256
    # Proxies whose X-Forwarded-For is believed (`invoke intake` behind a reverse proxy).
    forwarded_allow_ips: str = "127.0.0.1"

    def __post_init__(self) -> None:
        # Settings files may spell a pair as a list; the rate limiter wants whole numbers.
        for name in ("comment_rate_limit", "like_rate_limit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, (int(value[0]), int(value[1])))
        object.__setattr__(self, "synchronous", str(self.synchronous).upper())


@dataclass(frozen=True)
class ModerationOptions:
    """MODERATION: each field is the lower-case name of a key, its default the default."""

    # More links than this in a comment: held for review.
    max_links: int = 2
    # Hold a new email address's first comment (WordPress's setting).
    hold_first_comment: bool = False
    # Hold even what Akismet and the rules let through.
    hold_all: bool = False
    # Then email, IP and user agent are forgotten.
    purge_after_days: int = 30
    # Words, emails, address ranges to refuse; one a line.
    blocklist_path: str = "var/blocklist.txt"
    # comment-checks in flight at once.
    akismet_concurrency: int = 32
    # On network error, timeout or 5xx, with backoff.
    akismet_retries: int = 3
    # Seconds before the first retry; doubles each time.
    akismet_backoff: float = 0.5
    # Seconds; the akismet package's PYTHON_AKISMET_TIMEOUT overrides it.
    akismet_timeout: float = 5.0


@dataclass(frozen=True)
class ProjectSettings:
    """Everything the intake, `invoke moderate`, the importer and tasks.py read from a
    settings file, as absolute paths and checked options."""

    settings_file: Path
    # The folder holding the settings file: relative paths start here.
    root: Path
    content_dir: Path
    output_dir: Path
    # content_dir / THREADED_COMMENTS["PATH"]: content/comments/<post-slug>/<id>.md.
    comments_dir: Path
    # output_dir / THREADED_COMMENTS["JSON_PATH"], written by every build.
    comments_json: Path
    # output_dir / INTAKE_PAGE_SAVE_AS: the theme's shell for the intake's own pages.
    intake_page: Path
    inbox: Path
    blocklist: Path
    # SITEURL without its trailing slash ("" for a local build).
    site_url: str
    # TIMEZONE: what a comment file's date without an offset is read in, as Pelican does.
    timezone: ZoneInfo
    blog_lang: str
    article_url: str
    page_url: str
    intake: IntakeOptions
    moderation: ModerationOptions


def options_from(cls: type[OptionsT], name: str, values: Mapping[str, Any] | None) -> OptionsT:
    """An options dataclass from a settings dict's upper-case keys; SettingsError naming
    an unknown key (a typo would otherwise be silently ignored)."""
    known = {field.name.upper(): field.name for field in dataclasses.fields(cls)}
    given = dict(values or {})
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise SettingsError(f"{name} has unknown keys: {', '.join(map(repr, unknown))}")
    return cls(**{known[key]: value for key, value in given.items()})


def project_settings(
    pelican: Mapping[str, Any], settings_file: Path, environ: Mapping[str, str] = os.environ
) -> ProjectSettings:
    """The project's settings from Pelican's settings (its defaults included)."""
    root = settings_file.resolve().parent
    intake = options_from(IntakeOptions, "COMMENT_INTAKE", pelican.get("COMMENT_INTAKE"))
    moderation = options_from(ModerationOptions, "MODERATION", pelican.get("MODERATION"))
    comments = comment_settings(dict(pelican))
    # An absolute PATH or OUTPUT_PATH stays as it is: `root / absolute` is `absolute`.
    content_dir = root / pelican["PATH"]
    output_dir = root / pelican["OUTPUT_PATH"]
    return ProjectSettings(
        settings_file=settings_file.resolve(),
        root=root,
        content_dir=content_dir,
        output_dir=output_dir,
        comments_dir=content_dir / comments["PATH"],
        comments_json=output_dir / comments["JSON_PATH"],
        intake_page=output_dir / (pelican.get("INTAKE_PAGE_SAVE_AS") or INTAKE_PAGE_DEFAULT),
        inbox=root / (environ.get(INBOX_ENV) or intake.inbox_path),
        blocklist=root / moderation.blocklist_path,
        site_url=(pelican.get("SITEURL") or "").rstrip("/"),
        timezone=ZoneInfo(pelican.get("TIMEZONE") or "UTC"),
        blog_lang=pelican.get("DEFAULT_LANG") or "en",
        article_url=pelican["ARTICLE_URL"],
        page_url=pelican["PAGE_URL"],
        intake=intake,
        moderation=moderation,
    )


def load_settings(settings_file: Path, environ: Mapping[str, str] = os.environ) -> ProjectSettings:
    """Read `settings_file` over Pelican's defaults and resolve it.

    Not Pelican's `read_settings`: that also checks what only a build needs (the content
    folder must exist), and the intake runs where only the built site may be.
    """
    pelican = {**DEFAULT_CONFIG, **get_settings_from_file(str(settings_file))}
    return project_settings(pelican, settings_file, environ)
