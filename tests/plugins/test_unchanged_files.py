"""The unchanged_files plugin: a rebuild writes only the output files whose bytes change."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.site import run_pelican


def write_post(content: Path, slug: str, body: str, day: int = 14) -> None:
    content.mkdir(parents=True, exist_ok=True)
    (content / f"{slug}.md").write_text(
        f"Title: Post {slug}\nDate: 2016-03-{day:02d} 20:00\nSlug: {slug}\nTags: weather\n\n"
        f"{body}\n",
        encoding="utf-8",
    )


def build(content: Path, *overrides: str) -> Path:
    output = content.parent / "output"
    result = run_pelican(content, output, *overrides)
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


def test_a_selected_build_renders_the_posts_page_and_every_list_page_holding_its_summary(
    tmp_path,
):
    content = tmp_path / "content"
    # Seven posts, five to a list page: the oldest one's summary is on the second page of
    # the home page's list, its tag's and its category's.
    for day in range(1, 8):
        write_post(content, f"day-{day}", f"Notes from day {day}.", day=day)
    output = build(content)
    archives = output / "archives/index.html"
    untouched = {path: path.stat().st_mtime_ns for path in (archives, output / "index.html")}
    write_post(content, "day-1", "Notes from day 1, looked at again.", day=1)
    write_post(content, "day-7", "Notes from day 7, looked at again.", day=7)

    build(content, f"WRITE_SELECTED_SLUGS={json.dumps(['day-1'])}")
    for page in (
        "2016/03/day-1/index.html",
        "page/2/index.html",
        "tag/weather/page/2/index.html",
        "category/misc/page/2/index.html",
    ):
        shown = (output / page).read_text(encoding="utf-8")
        assert "Notes from day 1, looked at again." in shown, page
    # The pages that do not show the selected post are left as they were, another post
    # changed or not.
    for page in ("2016/03/day-7/index.html", "tag/weather/index.html"):
        assert "Notes from day 7, looked at again." not in (output / page).read_text(
            encoding="utf-8"
        )
    assert {path: path.stat().st_mtime_ns for path in untouched} == untouched
