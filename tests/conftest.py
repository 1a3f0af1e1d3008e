"""Shared fixtures for every part's tests: a built sample site, a real browser, an inbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.required import unavailable
from tests.support.site import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, run_pelican


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
        unavailable("BROWSER TESTS", f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def project(tmp_path: Path):
    """A tmp project for the moderation tests (the real pelicanconf.py, a built site's
    comments.json); its ProjectSettings, as the loader reads them."""
    from tests.support.moderation import make_project

    return make_project(tmp_path / "project")


@pytest.fixture
def connection(project) -> Iterator[object]:
    """The tmp project's inbox, open."""
    from moderation import inbox

    connection = inbox.connect(project.inbox)
    yield connection
    connection.close()


@pytest.fixture
def mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A real SMTP server on loopback (tests.support.smtp), and this process's mail
    settings pointing at it."""
    from tests.support.smtp import SmtpServer

    with SmtpServer(tmp_path) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        yield server
