"""Building a site the way `invoke build` does, and reading its pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (a built site, say), by its path relative to it."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def read_html(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
