"""Helpers shared by the moderation tests: a tmp project, pending comments, one pipeline run."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from moderation import inbox
from moderation.pipeline.run import CommandLine, run
from moderation.settings import ModerationOptions, ProjectSettings, load_settings
from tests.support.intake import INVOKE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POST = "texting-my-therapist"
POST_URL = "/2016/03/texting-my-therapist/"
POST_MODIFIED = "2017-10-09T00:00:00+00:00"
# Tests retry quickly: the behaviour is the same, the waits are not. A first comment is
# not held (HOLD_FIRST_COMMENT is on by default; its own tests ask for it).
FAST = ModerationOptions(
    akismet_retries=2, akismet_backoff=0.01, akismet_timeout=2.0, hold_first_comment=False
)
PRIVATE = ("reader@example.org", "198.51.100.7", "Mozilla/5.0 (TestBrowser 1.0)")


def make_project(root: Path) -> ProjectSettings:
    """A project folder with the real pelicanconf.py and a built site's comments.json;
    returns its settings as the loader reads them (COMMENT_INTAKE_INBOX left out)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "pelicanconf.py", root / "pelicanconf.py")
    with (root / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        # As FAST: a run started as its own process (start_moderate_run) does not hold a
        # first comment either; HOLD_FIRST_COMMENT's own tests ask for it.
        settings.write('\nMODERATION = {**MODERATION, "HOLD_FIRST_COMMENT": False}\n')
    posts = {
        POST: {
            "url": POST_URL,
            "title": "Texting my therapist",
            "open": True,
            "modified": POST_MODIFIED,
            "comments": [],
            "likes": {},
        }
    }
    (root / "output").mkdir(exist_ok=True)
    (root / "output" / "comments.json").write_text(json.dumps({"posts": posts}))
    return load_settings(root / "pelicanconf.py", environ={})


def add_pending(connection: sqlite3.Connection, body: str, **fields: object) -> str:
    """A pending comment as the intake stores it, with a reader's private details."""
    email, ip, user_agent = PRIVATE
    values: dict = {
        "post_slug": POST,
        "author": "Juniper",
        "email": email,
        "body": body,
        "permalink": POST_URL,
        "ip": ip,
        "user_agent": user_agent,
        "referrer": f"http://127.0.0.1:8000{POST_URL}",
    }
    values.update(fields)
    return inbox.add_comment(connection, inbox.NewComment(**values))


def status_of(connection: sqlite3.Connection, comment_id: str) -> str:
    return inbox.get_comment(connection, comment_id)["status"]


def run_pipeline(
    project: ProjectSettings, settings: ModerationOptions = FAST, **options: bool
) -> tuple[int, str]:
    """One non-interactive run of the pipeline with `settings` as its MODERATION options;
    returns its exit status and what it printed."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    with_options = dataclasses.replace(project, moderation=settings)
    code = run(with_options, CommandLine(**options), console, interactive=False)
    return code, buffer.getvalue()


def files_containing(folder: Path, needles: tuple[str, ...]) -> list[str]:
    """Every file under `folder` that contains one of `needles` (as bytes, so nothing hides)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {needle}" for needle in needles if needle.encode() in data]
    return found


def start_moderate_run(root: Path, **env: str) -> subprocess.Popen[str]:
    """A real `python -m moderation.pipeline.run --no-input` (the task's run, without the
    rebuild) on the project at `root`, with `env` over an environment cleared of Akismet
    and inbox settings; its output (stdout and stderr) is piped."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON_AKISMET", "AKISMET", "COMMENT_INTAKE"))
    }
    environment.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "moderation.pipeline.run", "--root", str(root), "--no-input"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def invoke_moderate(root: Path, env: dict[str, str]) -> str:
    """`invoke moderate --no-input` in the project copy at `root`, as the author types it;
    asserts it succeeded and returns what it printed."""
    result = subprocess.run(
        [str(INVOKE), "moderate", "--no-input"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def inbox_comment_id(root: Path, body: str) -> str:
    """The id of the comment with `body` in the inbox of the project copy at `root`."""
    with sqlite3.connect(root / "var" / "inbox.sqlite3") as connection:
        row = connection.execute("SELECT id FROM comments WHERE body = ?", (body,)).fetchone()
    assert row is not None, f"the inbox never got {body!r}"
    return row[0]
