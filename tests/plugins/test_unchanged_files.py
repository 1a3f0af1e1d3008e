"""The unchanged_files plugin: a rebuild writes only the output files whose bytes change."""

from __future__ import annotations

from pathlib import Path

from tests.support.site import run_pelican


def write_post(content: Path, slug: str, body: str) -> None:
    content.mkdir(parents=True, exist_ok=True)
    (content / f"{slug}.md").write_text(
        f"Title: Post {slug}\nDate: 2016-03-14 20:00\nSlug: {slug}\n\n{body}\n", encoding="utf-8"
    )


def build(content: Path) -> Path:
    output = content.parent / "output"
    result = run_pelican(content, output)
    assert result.returncode == 0, result.stdout + result.stderr
    return output


def test_a_rebuild_leaves_unchanged_pages_alone_and_rewrites_changed_ones(tmp_path):
    content = tmp_path / "content"
    write_post(content, "kept", "A quiet week between sessions.")
    write_post(content, "edited", "First thoughts after the session.")
    output = build(content)
    kept, edited = output / "2016/03/kept/index.html", output / "2016/03/edited/index.html"
    stamps = {path: path.stat().st_mtime_ns for path in (kept, edited)}
    write_post(content, "edited", "Second thoughts, a day later.")
    build(content)
    assert kept.stat().st_mtime_ns == stamps[kept]
    assert edited.stat().st_mtime_ns != stamps[edited]
    assert "Second thoughts, a day later." in edited.read_text(encoding="utf-8")
    # A page deleted from output/ is written again.
    kept.unlink()
    build(content)
    assert "A quiet week between sessions." in kept.read_text(encoding="utf-8")


def test_two_posts_written_to_one_page_still_stop_the_build(tmp_path):
    content = tmp_path / "content"
    write_post(content, "same", "One.")
    (content / "other.md").write_text(
        "Title: Other\nDate: 2016-03-14 20:00\nSlug: same\n\nTwo.\n", encoding="utf-8"
    )
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode != 0
    assert "Failed to overwrite" in result.stdout + result.stderr
