"""Putting the published site online: `invoke publish` and `invoke deploy`.

Shaped after pelican-quickstart's `rsync_upload` task: rsync sends the publish build's
folder (publishconf.py's OUTPUT_PATH) to DEPLOY_TARGET, "user@host:/path" over SSH or a
local folder. Only files whose content changed are sent (--checksum: every publish build
writes every file anew, so their times say nothing; and without --times an unchanged
file keeps its time on the server, so readers' caches keep it), and --delay-updates with
--delete-after keeps a reader from seeing a half-deployed site: rsync puts every new file
beside the old one first, renames them all in place at the end, then deletes what is gone.

`invoke gh-pages` puts the same build on a GitHub Pages branch instead, with ghp-import
(pelican-quickstart's `gh_pages` task).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from moderation.settings import DEPLOY_TARGET_ENV, ProjectSettings

# publishconf.py's SITEURL as shipped: a site built with it links to nobody's blog.
PLACEHOLDER_SITE_URL = "https://between-sessions.example.org"
SITE_URL_ENV = "BETWEEN_SESSIONS_SITEURL"


class DeployError(Exception):
    """Why the site cannot be published or deployed, in words for the author."""


def check_publishable(settings: ProjectSettings) -> None:
    """Refuse a publish build whose SITEURL is missing or still the placeholder."""
    if settings.site_url in ("", PLACEHOLDER_SITE_URL):
        raise DeployError(
            f"{settings.settings_file.name}'s SITEURL is {settings.site_url or 'empty'!r}, "
            'not your blog\'s address: put it there (SITEURL = "https://your-blog.example") '
            f"or set {SITE_URL_ENV}. Nothing was built."
        )


def rsync_command(settings: ProjectSettings) -> list[str]:
    """The rsync command line that sends the publish build to DEPLOY_TARGET."""
    if not settings.deploy_target:
        raise DeployError(
            f"No DEPLOY_TARGET: set it in {settings.settings_file.name} "
            '("user@host:/var/www/between-sessions" or a local folder) '
            f"or set {DEPLOY_TARGET_ENV}."
        )
    return [
        "rsync",
        "--recursive",
        "--checksum",
        # The web server reads what the author's umask may have kept private.
        "--chmod=D755,F644",
        "--delay-updates",
        "--delete-after",
        "--exclude=.DS_Store",
        "--compress",
        "--itemize-changes",
        # The trailing slash: the folder's contents, not the folder itself.
        f"{settings.output_dir}/",
        settings.deploy_target,
    ]


def deploy(settings: ProjectSettings) -> list[str]:
    """Send the publish build to DEPLOY_TARGET; returns the files sent or deleted."""
    if not (settings.output_dir / "index.html").is_file():
        raise DeployError(f"{settings.output_dir} holds no built site; run `invoke publish`.")
    result = subprocess.run(rsync_command(settings), capture_output=True, text=True)
    if result.returncode:
        raise DeployError(
            f"rsync to {settings.deploy_target} failed ({result.returncode}): "
            f"{result.stderr.strip()}"
        )
    # --itemize-changes: "<f" or ">f" opens a line for a file sent, "*deleting" one removed.
    return [
        line.split(" ", 1)[1]
        for line in result.stdout.splitlines()
        if line[:2] in ("<f", ">f") or line.startswith("*deleting")
    ]


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
    if not (settings.output_dir / "index.html").is_file():
        raise DeployError(f"{settings.output_dir} holds no built site; run `invoke publish`.")
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
