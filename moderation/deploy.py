"""Putting the published site online: `invoke publish` and `invoke deploy`.

Shaped after pelican-quickstart's `rsync_upload` task: rsync sends the publish build's
folder (publishconf.py's OUTPUT_PATH) to DEPLOY_TARGET, "user@host:/path" over SSH or a
local folder. Only files whose content changed are sent (--checksum: every publish build
writes every file anew, so their times say nothing; and without --times an unchanged
file keeps its time on the server, so readers' caches keep it), and --delay-updates with
--delete-after keeps a reader from seeing a half-deployed site: rsync puts every new file
beside the old one first, renames them all in place at the end, then deletes what is gone.

The publish build is whole or selected (`plan_publish`, the one place that chooses, and
`publish`, which builds by that plan). When
nothing but comment files changed since the last complete publish build of the same
output folder, only the pages showing the posts whose comments changed are rendered again
(the unchanged_files plugin's WRITE_SELECTED_SLUGS): the post's own page and the list
pages holding its summary, which show its comment count; the threaded_comments plugin
writes comments.json, the site-wide comment feed and those posts' own feeds, and the
sitemap and search.json do not depend on comments. Anything else (a post, a page, an
image, the settings, the theme, a plugin, an installed package) or a site that changes
with the clock (CLOSE_AFTER_DAYS, WITH_FUTURE_DATES off) makes the build whole. tests/deploy/
test_selected_publish.py holds that a selected build leaves the same output tree as a
whole one for a new comment, a removed one and a like.

The deploy is whole or selected too (`deploy`). A whole deploy is the rsync above over
the whole folder, which reads and checksums every file on both sides. When every publish
build since the last successful deploy to the same DEPLOY_TARGET was selected, only the
files those builds wrote are sent (rsync --files-from, still --delay-updates): the deploy
record in CACHE_PATH names them, and `publish` adds to it what each selected build wrote.
Anything unknown makes the deploy whole: no record (the first deploy, a whole build since,
a deploy or build that failed or was killed), another target, a recorded file gone.

`invoke gh-pages` puts the same build on a GitHub Pages branch instead, with ghp-import
(pelican-quickstart's `gh_pages` task); it leaves the deploy record as it is, since
DEPLOY_TARGET did not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pelican.settings import DEFAULT_CONFIG, get_settings_from_file
from threaded_comments import atomic_write, comment_settings, find_comment_folders
from unchanged_files import SELECTED_SETTING

from moderation.notify import offers_reply_mail
from moderation.settings import DEPLOY_TARGET_ENV, ProjectSettings

# publishconf.py's SITEURL as shipped: a site built with it links to nobody's blog.
PLACEHOLDER_SITE_URL = "https://between-sessions.example.org"
SITE_URL_ENV = "BETWEEN_SESSIONS_SITEURL"
# In the publish build's CACHE_PATH: what its last complete build was made of.
PUBLISH_INPUTS_NAME = "publish-inputs.json"
# In the publish build's CACHE_PATH: what DEPLOY_TARGET lacks of the publish folder.
DEPLOY_RECORD_NAME = "deploy-record.json"
# In the publish build's CACHE_PATH: the stamps of the files its last build left there.
OUTPUT_STAMPS_NAME = "publish-output.json"


class DeployError(Exception):
    """Why the site cannot be published or deployed, in words for the author."""


@dataclass(frozen=True)
class PublishInputs:
    """What a publish build is made of, as fingerprints: `site` for everything but the
    comment files, `comments` for each post's comment files (by post slug)."""

    site: str
    comments: dict[str, str]


@dataclass(frozen=True)
class PublishPlan:
    """How the next publish build is made: whole (`selected` None), or only the pages
    showing the posts in `selected`; `reason` says why, for the author."""

    inputs: PublishInputs
    selected: tuple[str, ...] | None
    reason: str

    def pelican_overrides(self) -> dict[str, Any]:
        """The settings the build runs with on top of publishconf.py."""
        if self.selected is None:
            return {}
        return {
            SELECTED_SETTING: list(self.selected),
            # The pages left alone are the last build's: the folder must not be emptied.
            "DELETE_OUTPUT_DIRECTORY": False,
            # Read the content caches, but store none: no post changed, and storing them
            # costs more than the few changed threads do when the next build renders them.
            "CACHE_CONTENT": False,
        }


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=repr).encode()).hexdigest()


def _file_stamps(folder: Path, leave_out: Path | None = None) -> Iterator[tuple[str, int, int]]:
    """(path, mtime_ns, size) of every file under `folder` but `leave_out`, hidden files
    and Python's byte-code caches, which say nothing about the site."""
    # Paths as strings: a Path made for each of a big site's files costs more than its stat.
    left_out = None if leave_out is None else str(leave_out)
    for current, folders, files in os.walk(folder):
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".")
            and name != "__pycache__"
            and f"{current}/{name}" != left_out
        )
        for name in sorted(files):
            if not name.startswith("."):
                path = f"{current}/{name}"
                status = os.stat(path)  # noqa: PTH116 (a string, not a Path: see above)
                yield path, status.st_mtime_ns, status.st_size


def _installed_packages() -> list[str]:
    """The installed distributions with their versions (Markdown's, say, shapes pages):
    their .dist-info folders' names, which a listing gives faster than their metadata."""
    folders = {Path(sysconfig.get_paths()[kind]) for kind in ("purelib", "platlib")}
    return sorted(
        path.name
        for folder in folders
        if folder.is_dir()
        for path in folder.iterdir()
        if path.name.endswith(".dist-info")
    )


@dataclass(frozen=True)
class SiteInputs:
    """Everything a publish build is made of but the comment files: the settings file's
    values (`pelican`), and `fingerprint`, of them and of the rest."""

    pelican: Mapping[str, Any]
    fingerprint: str


def read_site_inputs(settings: ProjectSettings) -> SiteInputs:
    """The inputs of a publish build with `settings`, but its comment files. Publishing
    writes only comment files, so `invoke moderate` reads these before any approval."""
    pelican = {**DEFAULT_CONFIG, **get_settings_from_file(str(settings.settings_file))}
    root = settings.root
    code = [root / pelican["THEME"], *(root / path for path in pelican["PLUGIN_PATHS"])]
    fingerprint = _fingerprint(
        # The values, not the file: publishconf.py imports pelicanconf.py and reads the
        # environment (BETWEEN_SESSIONS_SITEURL, ...).
        sorted(pelican.items()),
        _installed_packages(),
        [stamp for folder in code for stamp in _file_stamps(folder)],
        list(_file_stamps(settings.content_dir, leave_out=settings.comments_dir)),
        str(settings.output_dir),
        # Given to Pelican beside the file's values (tasks.pelican_run): the reply box.
        offers_reply_mail(settings.notify),
    )
    return SiteInputs(pelican, fingerprint)


def publish_inputs(settings: ProjectSettings, site: SiteInputs) -> PublishInputs:
    """The inputs of a publish build with `settings`: `site`, and its comment files now."""
    folders = find_comment_folders(settings.comments_dir)
    comments = {slug: _fingerprint(folder.names, folder.stamp) for slug, folder in folders.items()}
    return PublishInputs(site.fingerprint, comments)


def _inputs_path(settings: ProjectSettings) -> Path:
    return settings.cache_dir / PUBLISH_INPUTS_NAME


def _recorded_inputs(path: Path) -> PublishInputs | None:
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        return PublishInputs(recorded["site"], recorded["comments"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _changes_with_the_clock(pelican: Mapping[str, Any]) -> bool:
    # Comments close CLOSE_AFTER_DAYS after a post's date; without WITH_FUTURE_DATES a post
    # appears on its date. Either changes pages no file change announces.
    return (
        comment_settings(pelican)["CLOSE_AFTER_DAYS"] is not None
        or not pelican["WITH_FUTURE_DATES"]
    )


def plan_publish(settings: ProjectSettings, site: SiteInputs) -> PublishPlan:
    """Whole or selected: the one place the publish build's kind is chosen (see above)."""
    inputs = publish_inputs(settings, site)
    last = _recorded_inputs(_inputs_path(settings))
    if last is None or not (settings.output_dir / "index.html").is_file():
        return PublishPlan(inputs, None, "whole: no complete build to start from")
    if last.site != inputs.site:
        return PublishPlan(inputs, None, "whole: posts, pages, settings, theme or plugins changed")
    if _changes_with_the_clock(site.pelican):
        return PublishPlan(inputs, None, "whole: the site changes with the clock")
    changed = sorted(
        slug
        for slug in last.comments.keys() | inputs.comments.keys()
        if last.comments.get(slug) != inputs.comments.get(slug)
    )
    return PublishPlan(
        inputs, tuple(changed), f"selected: the comments of {len(changed)} post(s) changed"
    )


@dataclass(frozen=True)
class DeployRecord:
    """The publish folder `output` against DEPLOY_TARGET `target`: the target holds every
    file of the folder as it is, but the files in `changed` (paths relative to the folder),
    written by the selected builds since the last deploy there."""

    output: str
    target: str
    changed: frozenset[str]


def _deploy_record_path(settings: ProjectSettings) -> Path:
    return settings.cache_dir / DEPLOY_RECORD_NAME


def _recorded_deploy(settings: ProjectSettings) -> DeployRecord | None:
    try:
        recorded = json.loads(_deploy_record_path(settings).read_text(encoding="utf-8"))
        record = DeployRecord(
            recorded["output"], recorded["target"], frozenset(recorded["changed"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if record.output == str(settings.output_dir) else None


def _deploy_record(
    settings: ProjectSettings, target: str, changed: frozenset[str]
) -> dict[Path, str]:
    """The deploy record's file and text, for atomic_write."""
    record = {"output": str(settings.output_dir), "target": target, "changed": sorted(changed)}
    return {_deploy_record_path(settings): json.dumps(record)}


Stamps = dict[str, tuple[int, int, int]]


def _output_stamps(folder: Path) -> Stamps:
    """(mtime_ns, size, inode) of every file under the publish folder, by relative path."""
    stamps: Stamps = {}
    pending = [(str(folder), "")]
    while pending:
        current, prefix = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{prefix}{entry.name}/"))
                else:
                    status = entry.stat()
                    stamps[prefix + entry.name] = (
                        status.st_mtime_ns,
                        status.st_size,
                        status.st_ino,
                    )
    return stamps


def _output_stamps_path(settings: ProjectSettings) -> Path:
    return settings.cache_dir / OUTPUT_STAMPS_NAME


def _recorded_output_stamps(settings: ProjectSettings) -> Stamps | None:
    try:
        recorded = json.loads(_output_stamps_path(settings).read_text(encoding="utf-8"))
        if recorded["output"] != str(settings.output_dir):
            return None
        return {
            path: (mtime, size, inode) for path, (mtime, size, inode) in recorded["stamps"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def publish(
    settings: ProjectSettings,
    build: Callable[[Mapping[str, Any]], None],
    site: SiteInputs | None = None,
) -> PublishPlan:
    """Plan the publish build, `build` it with the plan's Pelican settings, record what it
    was made of and, if selected, what it wrote; returns the plan. `site`: its inputs but
    the comment files, if read already (`read_site_inputs`); else they are read here.

    What a build wrote is read off the folder itself: the files whose stamps differ after
    it. Pelican's pages (the unchanged_files plugin), the threaded_comments plugin's
    comments.json and feeds, and any other plugin's files are all seen alike, without each
    writer having to report (content_written fires for list pages a selected build leaves
    alone, and for none of the plugins' own files); and a file written again with the same
    bytes is merely checked by rsync, never missed. The stamps before it are those the last
    build left, recorded after it (one walk of the folder a build, not two; ~0.035 s at
    1,000 posts); without that record the folder is walked before the build too. Whatever
    changed the folder between two builds differs from the record too, and is sent.

    Crash safety by order: the records of the last build and the deploy record are deleted
    before building, and written (whole, atomically) only once the build has succeeded, so
    a build that fails or is killed midway is followed by a whole one and a whole deploy.
    The inputs are read before the build (the site's maybe long before, at the start of
    `invoke moderate`): a file written meanwhile differs from the record and is built next
    time.
    """
    plan = plan_publish(settings, site or read_site_inputs(settings))
    record, stamps = _inputs_path(settings), _output_stamps_path(settings)
    deployed = _recorded_deploy(settings)
    # Only a selected build adds to the deploy record; after a whole one, the next deploy
    # is whole.
    follows = deployed if plan.selected is not None else None
    before: Stamps = {}
    if follows is not None:
        before = _recorded_output_stamps(settings) or _output_stamps(settings.output_dir)
    for path in (_deploy_record_path(settings), record, stamps):
        path.unlink(missing_ok=True)
    build(plan.pelican_overrides())
    after = _output_stamps(settings.output_dir)
    inputs = {"site": plan.inputs.site, "comments": plan.inputs.comments}
    records = {
        record: json.dumps(inputs, sort_keys=True),
        stamps: json.dumps({"output": str(settings.output_dir), "stamps": after}),
    }
    # A selected build deletes nothing; if one did, a whole deploy deletes it too.
    if follows is not None and before.keys() <= after.keys():
        written = {path for path, stamp in after.items() if before.get(path) != stamp}
        records |= _deploy_record(settings, follows.target, follows.changed | written)
    # One atomic_write: the three files are synced together, their folder once.
    atomic_write(records)
    return plan


def check_publishable(settings: ProjectSettings) -> None:
    """Refuse a publish build whose SITEURL is missing or still the placeholder."""
    if settings.site_url in ("", PLACEHOLDER_SITE_URL):
        raise DeployError(
            f"{settings.settings_file.name}'s SITEURL is {settings.site_url or 'empty'!r}, "
            'not your blog\'s address: put it there (SITEURL = "https://your-blog.example") '
            f"or set {SITE_URL_ENV}. Nothing was built."
        )


def rsync_command(settings: ProjectSettings, selected: bool = False) -> list[str]:
    """The rsync command line that sends the publish build to DEPLOY_TARGET: the whole
    folder, or (`selected`) only the files named on its standard input, each ended by a
    NUL byte."""
    if not settings.deploy_target:
        raise DeployError(
            f"No DEPLOY_TARGET: set it in {settings.settings_file.name} "
            '("user@host:/var/www/between-sessions" or a local folder) '
            f"or set {DEPLOY_TARGET_ENV}."
        )
    # --files-from sends the named files (and the folders leading to them) only: nothing
    # to delete, since a selected build deletes nothing.
    which = ["--from0", "--files-from=-"] if selected else ["--recursive", "--delete-after"]
    return [
        "rsync",
        *which,
        "--checksum",
        # The web server reads what the author's umask may have kept private.
        "--chmod=D755,F644",
        "--delay-updates",
        "--exclude=.DS_Store",
        "--compress",
        "--itemize-changes",
        # The trailing slash: the folder's contents, not the folder itself.
        f"{settings.output_dir}/",
        settings.deploy_target,
    ]


def check_built(settings: ProjectSettings) -> None:
    """Refuse to send a publish folder that holds no built site."""
    if not (settings.output_dir / "index.html").is_file():
        raise DeployError(f"{settings.output_dir} holds no built site; run `invoke publish`.")


@dataclass(frozen=True)
class Deployed:
    """What a deploy did: the files sent or deleted, and why it was whole or selected."""

    changes: list[str]
    reason: str


def deploy_selection(settings: ProjectSettings) -> tuple[frozenset[str] | None, str]:
    """The files a deploy to DEPLOY_TARGET needs send, or None for the whole folder; and
    why, for the author."""
    last = _recorded_deploy(settings)
    if last is None:
        return None, "whole: no record of what DEPLOY_TARGET holds"
    if last.target != settings.deploy_target:
        return None, "whole: the last deploy went to another target"
    if not all((settings.output_dir / path).is_file() for path in last.changed):
        return None, "whole: a file the publish builds wrote is gone"
    return last.changed, f"selected: the {len(last.changed)} file(s) the publish builds wrote"


def deploy(settings: ProjectSettings) -> Deployed:
    """Send the publish build to DEPLOY_TARGET, whole or only what the selected builds
    since the last deploy there wrote (see above).

    Crash safety by order: the deploy record is deleted before rsync starts and written
    (saying the target now holds the whole folder) only once rsync has succeeded, so a
    deploy that fails or is killed midway is followed by a whole one, which sends
    whatever it missed.
    """
    check_built(settings)
    selection, reason = deploy_selection(settings)
    command = rsync_command(settings, selected=selection is not None)
    _deploy_record_path(settings).unlink(missing_ok=True)
    result = subprocess.run(
        command,
        input="".join(f"{path}\0" for path in sorted(selection or ())),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise DeployError(
            f"rsync to {settings.deploy_target} failed ({result.returncode}): "
            f"{result.stderr.strip()}"
        )
    atomic_write(_deploy_record(settings, settings.deploy_target, frozenset()))
    # --itemize-changes: "<f" or ">f" opens a line for a file sent, "*deleting" one removed.
    changes = [
        line.split(" ", 1)[1]
        for line in result.stdout.splitlines()
        if line[:2] in ("<f", ">f") or line.startswith("*deleting")
    ]
    return Deployed(changes, reason)


def github_pages_command(settings: ProjectSettings, branch: str, remote: str) -> list[str]:
    """The ghp-import command line that commits the publish build onto `branch` and pushes
    it to `remote`. --no-jekyll: GitHub's Jekyll would hide files and folders starting
    with an underscore; the site is built already."""
    return [
        sys.executable,
        "-m",
        "ghp_import",
        "--no-jekyll",
        "--push",
        "--remote",
        remote,
        "--branch",
        branch,
        "--message",
        f"Publish the site ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        str(settings.output_dir),
    ]


def deploy_to_github_pages(settings: ProjectSettings, branch: str, remote: str) -> None:
    """Commit the publish build onto `branch` of the project's git repository and push it.

    GitHub Pages serves static files only: the comment intake runs elsewhere (README,
    "GitHub Pages"). The author's own branches and working tree are not touched: ghp-import
    writes the branch with `git fast-import`.
    """
    check_built(settings)
    result = subprocess.run(
        github_pages_command(settings, branch, remote),
        cwd=settings.settings_file.parent,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise DeployError(
            f"ghp-import onto {branch} and push to {remote} failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
