"""Shared fixtures: build a site into a tmp folder, and a real browser for the form tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]


def run_pelican(
    content: Path, output: Path, *overrides: str, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    """Build `content` into `output` with the project's pelicanconf.py, as `invoke build` does.

    `overrides` are Pelican `-e KEY=VALUE` settings (values in JSON).
    """
    command = [
        sys.executable,
        "-m",
        "pelican",
        str(content),
        "-o",
        str(output),
        "-s",
        str(PROJECT_ROOT / "pelicanconf.py"),
        "--fatal",
        "errors",
        "--cache-path",
        str(output.parent / f"{output.name}-cache"),
        "--log-handler",
        "plain",
    ]
    if overrides:
        command += ["-e", *overrides]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def read_html(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's own content/ built once into a tmp folder; returns the output folder."""
    output = tmp_path_factory.mktemp("sample") / "output"
    result = run_pelican(PROJECT_ROOT / "content", output)
    assert result.returncode == 0, result.stdout + result.stderr
    return output


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A copy of content/ in a tmp folder, for tests that change content before building."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    return content


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright. Missing locally: skip loudly; under CI: fail."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"BROWSER TESTS SKIPPED: {message}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def paths(tmp_path: Path):
    """A tmp project for the moderation tests: settings, comments.json, an inbox path."""
    from moderation_fixtures import make_project

    return make_project(tmp_path / "project")


@pytest.fixture
def connection(paths) -> Iterator[object]:
    """The tmp project's inbox, open."""
    from moderation import inbox

    connection = inbox.connect(paths.inbox)
    yield connection
    connection.close()
