"""The one entry point a person types: `invoke --list` shows every task.

Shaped after what `pelican-quickstart` generates, with Between Sessions' own tasks
(comment intake, moderation, WordPress import) beside the usual ones.
"""

import gc
import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke import task
from pelican import main as pelican_main

from moderation.settings import ProjectSettings, load_settings

if TYPE_CHECKING:
    from moderation.deploy import SiteInputs

PROJECT_ROOT = Path(__file__).resolve().parent
SETTINGS_FILE_BASE = PROJECT_ROOT / "pelicanconf.py"
SETTINGS_FILE_PUBLISH = PROJECT_ROOT / "publishconf.py"


def pelican_run(
    settings: ProjectSettings, port: int | None = None, overrides: Mapping[str, Any] | None = None
) -> None:
    """Build the site of `settings` in this process; a failed build exits non-zero.

    `port`: the local port the site is served on, which its feeds then name.
    `overrides`: settings on top of the settings file's.
    """
    from moderation.notify import offers_reply_mail

    # The form's reply-mail box, only where reply mail can be sent (the theme's default: shown).
    extra = {"REPLY_MAIL_OFFERED": offers_reply_mail(settings.notify), **(overrides or {})}
    if port is not None:
        extra["FEED_DOMAIN"] = f"http://127.0.0.1:{port}"
    arguments = [
        *("-s", str(settings.settings_file)),
        *("-o", str(settings.output_dir)),
        str(settings.content_dir),
        # Last, and one -e for them all: it takes every word after it, and Pelican keeps
        # only the last -e it is given.
        "-e",
        *(f"{key}={json.dumps(value)}" for key, value in extra.items()),
    ]
    # Pelican's main() calls sys.exit(1) on failure, which invoke reports as the task's exit code.
    pelican_main(["--fatal", "errors", *arguments])


@task
def clean(c):
    """Remove the generated sites (preview and publish) and Pelican's caches."""
    for settings_file in (SETTINGS_FILE_BASE, SETTINGS_FILE_PUBLISH):
        shutil.rmtree(load_settings(settings_file).output_dir, ignore_errors=True)
    for cache in ("cache", "cache-publish"):
        shutil.rmtree(PROJECT_ROOT / cache, ignore_errors=True)


@task
def build(c):
    """Build output/ with pelicanconf.py."""
    pelican_run(load_settings(SETTINGS_FILE_BASE))


@task(pre=[clean])
def rebuild(c):
    """Remove output/ and the cache, then build from scratch."""
    build(c)


def checked_publishable(settings: ProjectSettings) -> ProjectSettings:
    """`settings`, unless their SITEURL is missing or the placeholder: then exit, saying so."""
    from invoke import Exit

    from moderation.deploy import DeployError, check_publishable

    try:
        check_publishable(settings)
    except DeployError as error:
        raise Exit(f"publish: {error}", code=1) from None
    return settings


def publish_build() -> ProjectSettings:
    """Build the live site with publishconf.py, refusing the placeholder SITEURL."""
    settings = checked_publishable(load_settings(SETTINGS_FILE_PUBLISH))
    build_live_site(settings)
    return settings


def build_live_site(settings: ProjectSettings, site: "SiteInputs | None" = None) -> None:
    """The publish build of `settings`, whole or only what changed comments show; `site`:
    its inputs but the comment files, if read already (moderation.deploy.read_site_inputs)."""
    from moderation.deploy import publish as run_publish

    # What this process holds now (modules, settings, the moderation run's objects) lives
    # until it ends: frozen, Python's collector stops walking it again and again while the
    # build makes its objects (at 1,000 posts ~0.06 s of a selected build's ~0.5 s of CPU).
    gc.freeze()
    plan = run_publish(settings, lambda overrides: pelican_run(settings, overrides=overrides), site)
    print(f"publish: {plan.reason}")


@task
def publish(c):
    """Build the live site with publishconf.py into its own folder (output-publish/)."""
    publish_build()


@task
def deploy(c):
    """`invoke publish`, then rsync the result to DEPLOY_TARGET (only what changed); then
    the intake at BETWEEN_SESSIONS_INBOX_URL, if set, sends the reply mail it held."""
    from moderation.pipeline.remote import INBOX_URL_ENV

    send_live(publish_build(), os.environ.get(INBOX_URL_ENV))


@task(name="gh-pages")
def gh_pages(c, branch="gh-pages", remote="origin"):
    """`invoke publish`, then commit the result onto a GitHub Pages branch and push it."""
    from invoke import Exit

    from moderation.deploy import DeployError, deploy_to_github_pages
    from moderation.pipeline.remote import INBOX_URL_ENV

    settings = publish_build()
    try:
        deploy_to_github_pages(settings, branch, remote)
    except DeployError as error:
        raise Exit(f"gh-pages: {error}", code=1) from None
    print(f"gh-pages: {settings.output_dir.name}/ is on {branch}, pushed to {remote}")
    announce_live(os.environ.get(INBOX_URL_ENV))


def send_live(settings: ProjectSettings, inbox_url: str | None) -> None:
    """rsync the publish build to DEPLOY_TARGET, saying how many files changed; then tell
    the intake at `inbox_url` (if any) that the replies it holds mail for are live."""
    from invoke import Exit

    from moderation.deploy import DeployError
    from moderation.deploy import deploy as run_deploy

    try:
        deployed = run_deploy(settings)
    except DeployError as error:
        raise Exit(f"deploy: {error}", code=1) from None
    print(f"deploy: {deployed.reason}")
    print(f"deploy: {len(deployed.changes)} file(s) sent or deleted at {settings.deploy_target}")
    announce_live(inbox_url)


def announce_live(inbox_url: str | None) -> None:
    """Tell the intake at `inbox_url` (if any) that the site is live, so that it sends the
    reply mail it held until the replies could be read."""
    from invoke import Exit

    from moderation.intake.admin import ADMIN_TOKEN_ENV
    from moderation.pipeline.remote import RemoteInboxError, announce_deployed

    if not inbox_url:
        return
    unsent = (
        "deploy: the site is live, but the intake was not told so: {why}\n"
        "The reply mail it holds waits for the next `invoke deploy`."
    )
    token = os.environ.get(ADMIN_TOKEN_ENV)
    if not token:
        raise Exit(unsent.format(why=f"{ADMIN_TOKEN_ENV} is not set."), code=1)
    try:
        released = announce_deployed(inbox_url, token)
    except RemoteInboxError as error:
        raise Exit(unsent.format(why=error), code=error.exit_code) from None
    if released:
        print(f"deploy: {inbox_url} now sends the reply mail it held")


# The livereload script's own port, as the livereload browser extensions expect it.
LIVERELOAD_PORT = 35729


@task
def livereload(c, port=8000, reload_port=LIVERELOAD_PORT):
    """Rebuild when content, theme or plugins change and reload the browser; the comment
    intake is served with the site on http://127.0.0.1:PORT, as with `invoke serve`."""
    import threading
    from contextlib import suppress

    from livereload import Server

    from moderation.intake.server import livereload_server

    def rebuild_and_keep_serving() -> None:
        # A half-written post can fail the build; Pelican has said why, so wait for the next save.
        with suppress(SystemExit):
            build(c)

    settings = load_settings(SETTINGS_FILE_BASE)
    build(c)
    site = livereload_server(settings, int(port), int(reload_port))
    # uvicorn in a thread, the watcher in the main one: Ctrl-C stops the watcher, then the
    # site is stopped in order, so the intake commits what it has queued.
    serving = threading.Thread(target=site.run, name="site-and-intake")
    serving.start()
    watcher = Server()
    for watched in ("content/**/*", "theme/**/*", "plugins/**/*.py", "pelicanconf.py"):
        watcher.watch(str(PROJECT_ROOT / watched), rebuild_and_keep_serving)
    try:
        watcher.serve(host="127.0.0.1", port=int(reload_port), root=str(settings.output_dir))
    finally:
        site.should_exit = True
        serving.join()


@task
def test(c, options=""):
    """Run the test suite: exactly what the README's test line runs."""
    c.run(f"{shlex.quote(sys.executable)} -m pytest {options}", pty=False)


# --- Comment intake: the site and the intake on one port, or the intake alone ---


@task
def serve(c, port=8000):
    """Build, then serve the site and the comment intake on http://127.0.0.1:PORT."""
    from moderation.intake.server import serve as run_server

    settings = load_settings(SETTINGS_FILE_BASE)
    pelican_run(settings, int(port))
    run_server(settings, int(port))


@task
def intake(c, port=8001, production=False):
    """Serve only the comment intake on 127.0.0.1:PORT, for behind a reverse proxy.

    --production reads publishconf.py instead of pelicanconf.py.
    """
    from moderation.intake.server import serve as run_server

    settings_file = SETTINGS_FILE_PUBLISH if production else SETTINGS_FILE_BASE
    run_server(load_settings(settings_file), int(port), intake_only=True)


@task
def admin_token(c):
    """Print a new random token for the intake's admin API (BETWEEN_SESSIONS_ADMIN_TOKEN)."""
    import secrets

    # 32 random bytes: beyond guessing, even without the intake's limit on wrong tries.
    print(secrets.token_urlsafe(32))


# --- Moderation: rules, Akismet, review, publish, rebuild ---


@task(
    help={
        "no-input": "no review: apply the automatic decisions, leave the rest held",
        "dry-run": "show what would happen and write nothing",
        "no-build": "do not rebuild the site afterwards",
        "review-spam": "review the spam list as well as held comments",
        "log": "print the decision log and stop",
        "inbox": "moderate the intake at this address through its admin API "
        "(default: BETWEEN_SESSIONS_INBOX_URL, else the local inbox file); "
        "rebuilds with publishconf.py",
        "deploy": "then `invoke deploy`",
    }
)
def moderate(
    c,
    no_input=False,
    dry_run=False,
    no_build=False,
    review_spam=False,
    log=False,
    inbox=None,
    deploy=False,
):
    """Check new comments (rules, Akismet), review held ones, publish, then rebuild."""
    from contextlib import nullcontext

    from invoke import Exit

    from moderation.deploy import read_site_inputs
    from moderation.intake.admin import ADMIN_TOKEN_ENV
    from moderation.pipeline.lock import AlreadyRunningError, one_run_at_a_time
    from moderation.pipeline.remote import INBOX_URL_ENV, run_remote_project
    from moderation.pipeline.run import (
        EXIT_ALREADY_RUNNING,
        EXIT_INTERRUPTED,
        EXIT_KEY_REFUSED,
        CommandLine,
        run_project,
    )

    command_line = CommandLine(no_input=no_input, dry_run=dry_run, review_spam=review_spam, log=log)
    inbox_url = inbox or os.environ.get(INBOX_URL_ENV)
    writes = not (dry_run or log)
    # In production the rebuild is the live site's, with publishconf.py.
    settings = load_settings(SETTINGS_FILE_PUBLISH if inbox_url else SETTINGS_FILE_BASE)
    live, site = settings, None
    if writes and (deploy or (inbox_url and not no_build)):
        # Before anything changes: a run must not stop at a build that cannot happen.
        live = checked_publishable(load_settings(SETTINGS_FILE_PUBLISH))
        # Before any approval, all the live build's inputs that publishing leaves alone:
        # from an approval to the live page, only what the new comments change is read.
        site = read_site_inputs(live)
    if inbox_url:
        token = os.environ.get(ADMIN_TOKEN_ENV)
        if not token:
            raise Exit(f"moderate: set {ADMIN_TOKEN_ENV} to the intake's admin token.", code=2)
        try:
            # The local runs' lock (see run_project), rebuild and deploy included: two runs
            # at once would publish the same comments, build into the same folder, and one
            # could rebuild it while the other's rsync reads it.
            with nullcontext() if log else one_run_at_a_time(settings.inbox):
                code = run_remote_project(settings, command_line, inbox_url, token)
                if writes and code not in (EXIT_KEY_REFUSED, EXIT_INTERRUPTED):
                    if deploy or not no_build:
                        build_live_site(live, site)
                    if deploy:
                        send_live(live, inbox_url)
        except AlreadyRunningError as error:
            print(error)
            code = EXIT_ALREADY_RUNNING
    else:

        def build_and_send() -> None:
            build_live_site(live, site)
            send_live(live, None)

        # The local run rebuilds and deploys inside its one-run lock (see run_project).
        code = run_project(
            settings,
            command_line,
            rebuild=None if no_build else lambda: pelican_run(settings),
            deploy=build_and_send if deploy else None,
        )
    if code:
        raise Exit(code=code)


# --- Moving in: the sample blog out, then a WordPress export in ---


@task
def clean_samples(c):
    """Remove the sample blog's posts, About page and comments from content/ (the ones
    you have not changed), before you import or write your own."""
    from moderation.samples import clean_samples as remove_samples

    print("\n".join(remove_samples(load_settings(SETTINGS_FILE_BASE).content_dir).lines()))


# --- WordPress import: an export's posts, pages and threaded comments into content/ ---


@task(
    help={
        "file": "the WordPress export (WXR) to import",
        "force": "overwrite imported files you have changed or deleted since the last import",
        "download-media": "copy the export's images into content/images/ (else linked as before)",
        "content": "the content folder to import into (default: the site's content/; "
        "comments WordPress held for moderation then go to your inbox)",
    }
)
def import_wordpress(c, file, force=False, content=None, download_media=False):
    """Bring a WordPress export (WXR) in: posts, pages, threaded comments."""
    from invoke import Exit

    from moderation.importers.wordpress import import_wordpress as run_import

    settings = load_settings(SETTINGS_FILE_BASE)
    try:
        summary = run_import(
            Path(file),
            settings,
            force=force,
            content_dir=Path(content) if content else None,
            # Held comments go to this site's inbox only when the posts come to this site.
            inbox_path=None if content else settings.inbox,
            download_media=download_media,
        )
    except ValueError as error:  # a bad export (WXRError) or a damaged import manifest
        raise Exit(f"import-wordpress: {error}\nNothing was written.", code=1) from None
    print("\n".join(summary.lines()))
