"""`invoke moderate` as the author types it: options, messages and exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moderation import inbox
from tests.support.akismet_standin import AkismetStandIn
from tests.support.moderation import PROJECT_ROOT, add_pending, make_project, status_of

INVOKE = Path(sys.executable).parent / "invoke"


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "project")
    shutil.copy(PROJECT_ROOT / "tasks.py", tmp_path / "project" / "tasks.py")
    return project


def invoke(project, *arguments: str, env: dict[str, str] | None = None):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON_AKISMET", "AKISMET", "COMMENT_INTAKE"))
    }
    environment.update(env or {})
    return subprocess.run(
        [str(INVOKE), "moderate", *arguments],
        cwd=project.inbox.parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_moderate_is_listed_with_its_options():
    result = subprocess.run(
        [str(INVOKE), "--help", "moderate"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    for option in ("--no-input", "--dry-run", "--no-build", "--review-spam", "--log"):
        assert option in result.stdout


def test_no_key_says_so_and_holds(project):
    connection = inbox.connect(project.inbox)
    comment = add_pending(connection, "Thank you for this.")
    result = invoke(project, "--no-input", "--no-build")
    assert result.returncode == 0, result.stderr
    assert "Akismet is not configured" in result.stdout
    assert status_of(connection, comment) == "held"


def test_akismet_down_exits_non_zero_and_keeps_the_comment(project):
    connection = inbox.connect(project.inbox)
    comment = add_pending(connection, "Thank you for this.")
    with AkismetStandIn() as standin:
        standin.fail_always = True
        env = {**standin.environment(), "PYTHON_AKISMET_TIMEOUT": "1"}
        result = invoke(project, "--no-input", "--no-build", env=env)
    assert result.returncode == 1
    assert "could not be reached" in result.stdout
    assert "retrying" in result.stderr  # each retry is reported as it happens
    assert status_of(connection, comment) == "pending"


def test_an_invalid_key_exits_2_without_building(project):
    connection = inbox.connect(project.inbox)
    comment = add_pending(connection, "Thank you for this.")
    with AkismetStandIn() as standin:
        result = invoke(project, "--no-input", env=standin.environment("wrong-key"))
    assert result.returncode == 2
    assert "refused the API key" in result.stdout
    assert status_of(connection, comment) == "pending"
    assert not (project.inbox.parent.parent / "output" / "index.html").exists()


def test_dry_run_and_log(project):
    connection = inbox.connect(project.inbox)
    comment = add_pending(connection, "Thank you for this.", honeypot=True)
    dry = invoke(project, "--dry-run")
    assert dry.returncode == 0 and "Would decide" in dry.stdout
    assert status_of(connection, comment) == "pending"

    invoke(project, "--no-input", "--no-build")
    log = invoke(project, "--log")
    assert log.returncode == 0
    assert comment in log.stdout and "honeypot" in log.stdout
