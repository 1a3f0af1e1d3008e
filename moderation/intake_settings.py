"""The intake's settings: the COMMENT_INTAKE dict of pelicanconf.py (publishconf.py inherits it).

Relative paths are taken from the project folder, the one holding the settings file.
The environment variable COMMENT_INTAKE_INBOX, when set, overrides INBOX_PATH (tests use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pelican.settings import read_settings

INBOX_ENV = "COMMENT_INTAKE_INBOX"

DEFAULTS: dict = {
    "INBOX_PATH": "var/inbox.sqlite3",
    # The site's origin when the intake runs on another one (production); None: same origin.
    "ALLOWED_ORIGIN": None,
    "MAX_BODY_BYTES": 64 * 1024,
    # (events, seconds) per address; None switches a limit off.
    "COMMENT_RATE_LIMIT": (5, 600),
    "LIKE_RATE_LIMIT": (60, 60),
    # How long one salt recognises a reader's likes before it is replaced and forgotten.
    "LIKE_SALT_DAYS": 7,
    # FULL: committed comments survive power loss; group commit keeps that fast.
    "SYNCHRONOUS": "FULL",
    "MAX_BATCH": 256,
    # Proxies whose X-Forwarded-For is believed (`invoke intake` behind a reverse proxy).
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
}


@dataclass(frozen=True)
class IntakeSettings:
    """Everything the intake needs to know, resolved to absolute paths."""

    inbox_path: Path
    comments_json: Path
    site_url: str = ""
    allowed_origin: str | None = None
    max_body_bytes: int = DEFAULTS["MAX_BODY_BYTES"]
    comment_rate_limit: tuple[int, int] | None = DEFAULTS["COMMENT_RATE_LIMIT"]
    like_rate_limit: tuple[int, int] | None = DEFAULTS["LIKE_RATE_LIMIT"]
    like_salt_days: int = DEFAULTS["LIKE_SALT_DAYS"]
    synchronous: str = DEFAULTS["SYNCHRONOUS"]
    max_batch: int = DEFAULTS["MAX_BATCH"]
    forwarded_allow_ips: str = DEFAULTS["FORWARDED_ALLOW_IPS"]


def output_dir(settings_file: Path) -> Path:
    """The built site's folder for this settings file."""
    return settings_file.resolve().parent / read_settings(str(settings_file))["OUTPUT_PATH"]


def intake_settings(settings_file: Path) -> IntakeSettings:
    """Read COMMENT_INTAKE from a Pelican settings file."""
    pelican = read_settings(str(settings_file))
    root = settings_file.resolve().parent
    options = {**DEFAULTS, **pelican.get("COMMENT_INTAKE", {})}
    inbox_path = Path(os.environ.get(INBOX_ENV) or options["INBOX_PATH"])

    def rate(value: list | tuple | None) -> tuple[int, int] | None:
        return (int(value[0]), int(value[1])) if value else None

    return IntakeSettings(
        inbox_path=inbox_path if inbox_path.is_absolute() else root / inbox_path,
        comments_json=root / pelican["OUTPUT_PATH"] / "comments.json",
        site_url=(pelican.get("SITEURL") or "").rstrip("/"),
        allowed_origin=options["ALLOWED_ORIGIN"],
        max_body_bytes=int(options["MAX_BODY_BYTES"]),
        comment_rate_limit=rate(options["COMMENT_RATE_LIMIT"]),
        like_rate_limit=rate(options["LIKE_RATE_LIMIT"]),
        like_salt_days=int(options["LIKE_SALT_DAYS"]),
        synchronous=str(options["SYNCHRONOUS"]).upper(),
        max_batch=int(options["MAX_BATCH"]),
        forwarded_allow_ips=str(options["FORWARDED_ALLOW_IPS"]),
    )
