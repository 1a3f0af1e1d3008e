"""The template_cache plugin: Jinja's compiled templates are kept between builds, and a
build never renders with code compiled from another source or with other options."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.site import PROJECT_ROOT, run_pelican

POST_PAGE = "2016/03/kept/index.html"


def site(tmp_path: Path) -> tuple[Path, Path]:
    """One post, and a copy of the project's theme to edit: (content, theme)."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "kept.md").write_text(
        "Title: Kept\nDate: 2016-03-14 20:00\nSlug: kept\n\nA quiet week between sessions.\n",
        encoding="utf-8",
    )
    theme = tmp_path / "theme"
    shutil.copytree(PROJECT_ROOT / "theme", theme)
    return content, theme


def build(content: Path, output: Path, *overrides: str) -> str:
    """Build into `output` (its cache beside it, kept from build to build); the post's page."""
    result = run_pelican(content, output, *overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    return (output / POST_PAGE).read_text(encoding="utf-8")


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    content, theme = site(tmp_path)
    output = tmp_path / "output"
    first = build(content, output, f"THEME={json.dumps(str(theme))}")
    # The compiled templates are kept beside Pelican's own caches.
    assert list((tmp_path / "output-cache" / "jinja").iterdir())

    base = theme / "templates" / "base.html"
    base.write_text(
        base.read_text(encoding="utf-8").replace("</body>", "<!-- edited theme --></body>"),
        encoding="utf-8",
    )
    again = build(content, output, f"THEME={json.dumps(str(theme))}")
    assert "<!-- edited theme -->" not in first
    assert "<!-- edited theme -->" in again


def test_other_compile_options_compile_again(tmp_path: Path) -> None:
    content, theme = site(tmp_path)
    kept = [f"THEME={json.dumps(str(theme))}"]
    build(content, tmp_path / "output", *kept)
    options = {"trim_blocks": False, "lstrip_blocks": False, "extensions": []}
    changed = [*kept, f"JINJA_ENVIRONMENT={json.dumps(options)}"]
    warm = build(content, tmp_path / "output", *changed)
    # A build with those options and no cache at all: what the page must be.
    cold = build(content, tmp_path / "cold", *changed)
    assert warm == cold
    assert warm != build(content, tmp_path / "output", *kept)
