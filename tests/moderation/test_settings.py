"""The one settings loader (moderation.settings): what a settings file says, every tool reads.

Each test writes a pelicanconf.py as an author would and checks where the intake and
`invoke moderate` then look: the comments folder, comments.json, the inbox, the blocklist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from threaded_comments import PostEntry, write_comments_json

from moderation import inbox
from moderation.settings import SettingsError, load_settings
from tests.support.akismet_standin import AkismetStandIn
from tests.support.intake import OPEN_POST, OPEN_URL, running, valid_comment
from tests.support.moderation import PROJECT_ROOT, add_pending, run_pipeline

MODIFIED = "2016-03-20T09:00:00+00:00"
SETTINGS_WITH_OWN_PATHS = """
PATH = "site-content"
OUTPUT_PATH = "public"
TIMEZONE = "Europe/London"
THREADED_COMMENTS = {"PATH": "reader-comments", "JSON_PATH": "api/targets.json"}
COMMENT_INTAKE = {"INBOX_PATH": "private/inbox.sqlite3"}
MODERATION = {"BLOCKLIST_PATH": "private/blocked.txt", "MAX_LINKS": 4}
"""


@pytest.fixture
def own_paths(tmp_path: Path) -> Path:
    """A project whose settings move every file away from its default place, built once:
    its comments.json (at JSON_PATH) lists one open post."""
    settings_file = tmp_path / "pelicanconf.py"
    settings_file.write_text(SETTINGS_WITH_OWN_PATHS)
    post = PostEntry(
        slug=OPEN_POST, url=OPEN_URL, title="Texting my therapist", open=True, modified=MODIFIED
    )
    write_comments_json(tmp_path / "public" / "api" / "targets.json", [post])
    return settings_file


@pytest.mark.parametrize(
    ("dictionary", "key"), [("MODERATION", "MAX_LINK"), ("COMMENT_INTAKE", "INBOX")]
)
def test_an_unknown_key_is_refused_naming_it(tmp_path, dictionary, key):
    settings_file = tmp_path / "pelicanconf.py"
    settings_file.write_text(f"{dictionary} = {{{key!r}: 3}}\n")
    with pytest.raises(SettingsError, match=f"{dictionary} has unknown keys: '{key}'"):
        load_settings(settings_file)


def test_a_known_key_changes_only_its_own_option(tmp_path):
    settings_file = tmp_path / "pelicanconf.py"
    settings_file.write_text('MODERATION = {"MAX_LINKS": 3}\n')
    settings = load_settings(settings_file)
    assert settings.moderation.max_links == 3
    assert settings.moderation.akismet_timeout == 5.0  # the default, defined once
    assert settings.intake.comment_rate_limit == (5, 600)


def test_every_path_is_derived_from_the_settings_file(own_paths):
    root = own_paths.parent
    settings = load_settings(own_paths, environ={})
    assert settings.content_dir == root / "site-content"
    assert settings.output_dir == root / "public"
    assert settings.comments_dir == root / "site-content" / "reader-comments"
    assert settings.comments_json == root / "public" / "api" / "targets.json"
    assert settings.inbox == root / "private" / "inbox.sqlite3"
    assert settings.blocklist == root / "private" / "blocked.txt"


def test_the_environment_names_another_inbox(own_paths, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "inbox.sqlite3"
    settings = load_settings(own_paths, environ={"COMMENT_INTAKE_INBOX": str(elsewhere)})
    assert settings.inbox == elsewhere


def test_the_project_settings_load():
    for name in ("pelicanconf.py", "publishconf.py"):
        settings = load_settings(PROJECT_ROOT / name, environ={})
        assert settings.comments_dir == PROJECT_ROOT / "content" / "comments"
    assert settings.site_url == "https://between-sessions.example.org"


def test_the_intake_finds_comments_json_at_json_path(own_paths):
    from moderation.intake.app import create_app

    with running(create_app(load_settings(own_paths, environ={}))) as url:
        answer = httpx.post(url + "/api/comments", data=valid_comment())
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{OPEN_URL}#comment-pending"
    connection = inbox.connect(own_paths.parent / "private" / "inbox.sqlite3")
    assert [
        row["post_slug"] for row in inbox.comments_with_status(connection, inbox.Status.PENDING)
    ] == [OPEN_POST]


def test_moderation_finds_comments_json_at_json_path(own_paths, monkeypatch):
    settings = load_settings(own_paths, environ={})
    connection = inbox.connect(settings.inbox)
    add_pending(connection, "Thank you for writing this down.", post_slug=OPEN_POST)
    with AkismetStandIn() as standin:
        for name, value in standin.environment().items():
            monkeypatch.setenv(name, value)
        code, output = run_pipeline(settings, settings.moderation, no_input=True)
        checked = standin.calls("comment-check")
    assert code == 0, output
    # The post's modified time reached Akismet: it came from the file JSON_PATH names.
    assert [call.form["comment_post_modified_gmt"] for call in checked] == [MODIFIED]


def test_python_m_moderation_pipeline_run_opens_the_inbox_the_environment_names(
    own_paths, tmp_path
):
    elsewhere = tmp_path / "elsewhere" / "inbox.sqlite3"
    connection = inbox.connect(elsewhere)
    comment = add_pending(connection, "Thank you.", honeypot=True)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON_AKISMET", "AKISMET"))
    }
    environment["COMMENT_INTAKE_INBOX"] = str(elsewhere)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "moderation.pipeline.run"),
            *("--root", str(own_paths.parent), "--no-input"),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert inbox.get_comment(connection, comment)["status"] == "spam"
    assert not (own_paths.parent / "private").exists()
