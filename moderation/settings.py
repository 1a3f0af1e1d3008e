"""The one settings loader: a Pelican settings file (pelicanconf.py, publishconf.py) made
into one frozen `ProjectSettings`, with every path the tools use already resolved.

The tools' own options live in two dicts beside Pelican's settings, each over the defaults
defined once here (as the dataclass fields of `IntakeOptions` and `ModerationOptions`):

- COMMENT_INTAKE: the intake (`invoke serve`, `invoke intake`);
- MODERATION: `invoke moderate`;
- NOTIFY and CARE (issue 14): the mail the blog sends, and what a reader in crisis is shown.

An unknown key in either is refused, naming it, as THREADED_COMMENTS refuses its own
(`threaded_comments.comment_settings`). Relative paths are taken from the project folder,
the one holding the settings file. The environment variable COMMENT_INTAKE_INBOX, when set,
overrides INBOX_PATH for the intake and moderation alike (tests and a second checkout use it).
BETWEEN_SESSIONS_COMMENTS_JSON, when set, overrides COMMENTS_JSON: on a server, the live
site's comments.json that `invoke deploy` updates (deploy/between-sessions-intake.service),
and BETWEEN_SESSIONS_DEPLOY_TARGET overrides the Pelican setting DEPLOY_TARGET.
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
LIVE_COMMENTS_JSON_ENV = "BETWEEN_SESSIONS_COMMENTS_JSON"
DEPLOY_TARGET_ENV = "BETWEEN_SESSIONS_DEPLOY_TARGET"
# Issue 14: who is told about waiting comments (overrides NOTIFY["AUTHOR_EMAIL"]).
AUTHOR_EMAIL_ENV = "BETWEEN_SESSIONS_AUTHOR_EMAIL"
# Where the build writes the theme's intake_page.html when INTAKE_PAGE_SAVE_AS is unset.
INTAKE_PAGE_DEFAULT = "intake_page.html"

OptionsT = TypeVar("OptionsT", "IntakeOptions", "ModerationOptions", "NotifyOptions", "CareOptions")


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
    # (likes, seconds) per comment, whoever sends them (issue 12: forged likes); None: off.
    comment_like_rate_limit: tuple[int, int] | None = (20, 3600)
    # At most this many comments wait in the inbox (pending or held); past it new ones get
    # 503 with Retry-After (issue 12: floods). None switches the cap off.
    max_waiting: int | None = 5000
    # Where readers reach the intake, for the links it sends back (removal links), e.g.
    # "https://comments.example.org". None: the site's origin (SITEURL), or the address
    # `invoke serve` listens on. Never taken from a request's Host header.
    public_url: str | None = None
    # How long one salt recognises a reader's likes before it is replaced and forgotten.
    like_salt_days: int = 7
    # FULL: committed comments survive power loss; group commit keeps that fast.
    synchronous: str = "FULL"
    # At most this many requests share one transaction (group commit).
    max_batch: int = 256
    # Proxies whose X-Forwarded-For is believed (`invoke intake` behind a reverse proxy).
    # That proxy must overwrite the header, never pass on what the client sent (README).
    forwarded_allow_ips: str = "127.0.0.1"
    # Slow clients (issue 12): seconds for a request's headers to arrive whole, for its
    # body, and an idle keep-alive connection's life; bytes of headers (h11 only: httptools
    # has no such setting); connections and requests at once, past which uvicorn answers 503.
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_header_bytes: int = 16 * 1024
    max_connections: int = 200
    # The comments.json the intake takes its posts from; None: the build's own. On a server,
    # the deployed site's (BETWEEN_SESSIONS_COMMENTS_JSON overrides it).
    comments_json: str | None = None

    def __post_init__(self) -> None:
        # Settings files may spell a pair as a list; the rate limiter wants whole numbers.
        for name in ("comment_rate_limit", "like_rate_limit", "comment_like_rate_limit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, (int(value[0]), int(value[1])))
        object.__setattr__(self, "synchronous", str(self.synchronous).upper())


@dataclass(frozen=True)
class ModerationOptions:
    """MODERATION: each field is the lower-case name of a key, its default the default."""

    # More links than this in a comment: held for review.
    max_links: int = 2
    # Hold a commenter's first comment until one of hers is approved (WordPress's setting;
    # remembered past the purge by a hash of the address, moderation.commenters).
    hold_first_comment: bool = True
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
class NotifyOptions:
    """NOTIFY: the mail the blog sends (moderation.notify). SMTP itself is configured by
    the environment (moderation.mail), since it holds a password."""

    # Where waiting comments are announced; BETWEEN_SESSIONS_AUTHOR_EMAIL overrides it.
    author_email: str | None = None
    # The sender of every mail; "from" is a Python keyword, hence the key's own name.
    sender: str = dataclasses.field(
        default="Between Sessions <blog@localhost>", metadata={"key": "FROM"}
    )
    # At most one digest of waiting comments this often.
    digest_minutes: int = 60
    # Where readers reach the intake, for the links in their mail (confirm, unsubscribe);
    # None: SITEURL (the intake behind the same host, under /api/).
    intake_url: str | None = None
    # Whether the form offers "Email me when someone replies" (issue 14). None: when the
    # site is built where mail is on (BETWEEN_SESSIONS_SMTP_URL set); True when the intake
    # that sends it runs elsewhere (going live: the server has SMTP, the laptop builds).
    reply_box: bool | None = None


@dataclass(frozen=True)
class CareOptions:
    """CARE: what a reader who writes in crisis language is shown at once, by the intake."""

    # Each a dict with "name" and a "phone" and/or "url"; shown in this order.
    resources: tuple[Mapping[str, str], ...] = (
        {"name": "If you are in danger now, call your local emergency number."},
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", tuple(dict(entry) for entry in self.resources))
        for entry in self.resources:
            if not entry.get("name") or set(entry) - {"name", "phone", "url"}:
                raise SettingsError(
                    f"CARE['RESOURCES'] entries need a 'name' and only 'phone' or 'url' "
                    f"besides: {entry!r}"
                )


@dataclass(frozen=True)
class ProjectSettings:
    """Everything the intake, `invoke moderate`, the importer and tasks.py read from a
    settings file, as absolute paths and checked options."""

    settings_file: Path
    # The folder holding the settings file: relative paths start here.
    root: Path
    content_dir: Path
    output_dir: Path
    # CACHE_PATH: Pelican's caches, and what moderation.deploy records of the builds.
    cache_dir: Path
    # content_dir / THREADED_COMMENTS["PATH"]: content/comments/<post-slug>/<id>.md.
    comments_dir: Path
    # output_dir / THREADED_COMMENTS["JSON_PATH"], written by every build.
    comments_json: Path
    # The comments.json the intake reads: the live site's on a server, else comments_json.
    intake_comments_json: Path
    # output_dir / INTAKE_PAGE_SAVE_AS: the theme's shell for the intake's own pages.
    intake_page: Path
    inbox: Path
    blocklist: Path
    # SITEURL without its trailing slash ("" for a local build).
    site_url: str
    # DEPLOY_TARGET: where `invoke deploy` sends output_dir ("" when there is none).
    deploy_target: str
    # AUTHOR: the name the author's own replies are published under.
    author_name: str
    # TIMEZONE: what a comment file's date without an offset is read in, as Pelican does.
    timezone: ZoneInfo
    blog_lang: str
    article_url: str
    page_url: str
    intake: IntakeOptions
    moderation: ModerationOptions
    notify: NotifyOptions
    care: CareOptions


def options_from(cls: type[OptionsT], name: str, values: Mapping[str, Any] | None) -> OptionsT:
    """An options dataclass from a settings dict's upper-case keys; SettingsError naming
    an unknown key (a typo would otherwise be silently ignored)."""
    known = {
        field.metadata.get("key", field.name.upper()): field.name
        for field in dataclasses.fields(cls)
    }
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
    notify = options_from(NotifyOptions, "NOTIFY", pelican.get("NOTIFY"))
    if environ.get(AUTHOR_EMAIL_ENV):
        notify = dataclasses.replace(notify, author_email=environ[AUTHOR_EMAIL_ENV])
    care = options_from(CareOptions, "CARE", pelican.get("CARE"))
    comments = comment_settings(dict(pelican))
    # An absolute PATH or OUTPUT_PATH stays as it is: `root / absolute` is `absolute`.
    content_dir = root / pelican["PATH"]
    output_dir = root / pelican["OUTPUT_PATH"]
    comments_json = output_dir / comments["JSON_PATH"]
    live_comments_json = environ.get(LIVE_COMMENTS_JSON_ENV) or intake.comments_json
    return ProjectSettings(
        settings_file=settings_file.resolve(),
        root=root,
        content_dir=content_dir,
        output_dir=output_dir,
        cache_dir=root / pelican["CACHE_PATH"],
        comments_dir=content_dir / comments["PATH"],
        comments_json=comments_json,
        intake_comments_json=root / live_comments_json if live_comments_json else comments_json,
        intake_page=output_dir / (pelican.get("INTAKE_PAGE_SAVE_AS") or INTAKE_PAGE_DEFAULT),
        inbox=root / (environ.get(INBOX_ENV) or intake.inbox_path),
        blocklist=root / moderation.blocklist_path,
        site_url=(pelican.get("SITEURL") or "").rstrip("/"),
        deploy_target=environ.get(DEPLOY_TARGET_ENV) or pelican.get("DEPLOY_TARGET") or "",
        author_name=pelican.get("AUTHOR") or "Author",
        timezone=ZoneInfo(pelican.get("TIMEZONE") or "UTC"),
        blog_lang=pelican.get("DEFAULT_LANG") or "en",
        article_url=pelican["ARTICLE_URL"],
        page_url=pelican["PAGE_URL"],
        intake=intake,
        moderation=moderation,
        notify=notify,
        care=care,
    )


def load_settings(settings_file: Path, environ: Mapping[str, str] = os.environ) -> ProjectSettings:
    """Read `settings_file` over Pelican's defaults and resolve it.

    Not Pelican's `read_settings`: that also checks what only a build needs (the content
    folder must exist), and the intake runs where only the built site may be.
    """
    pelican = {**DEFAULT_CONFIG, **get_settings_from_file(str(settings_file))}
    return project_settings(pelican, settings_file, environ)
