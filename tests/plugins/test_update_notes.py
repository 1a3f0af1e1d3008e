"""Update notes: the dated note on an earlier post, the backlink on its follow-up, chains,
the feed entry, and the build stopping on bad metadata."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.support.site import PROJECT_ROOT, read_html, run_pelican

ATOM = "{http://www.w3.org/2005/Atom}"
# The plugin under test on its own: these builds are about update notes, not comments.
ONLY_UPDATE_NOTES = 'PLUGINS=["update_notes"]'


def note_on(page: BeautifulSoup):
    """The update-note block inside the post's content."""
    return page.select_one("main article .update-note")


def words(element) -> str:
    """An element's text as a reader sees it: its paragraphs, whitespace collapsed."""
    return " ".join(" ".join(p.get_text() for p in element.find_all("p")).split())


def test_earlier_post_shows_dated_note_linking_to_follow_up(sample_site: Path) -> None:
    page = read_html(sample_site / "2016/03/texting-my-therapist/index.html")
    note = note_on(page)
    assert note is not None
    text = words(note)
    assert text.startswith("Note added October 2017: This post was written when we had just")
    assert "For the follow-up, read The rules we settled on." in text
    link = note.find("a", string="The rules we settled on")
    assert link["href"] == "/2017/10/the-rules-we-settled-on/"
    assert (sample_site / "2017/10/the-rules-we-settled-on/index.html").is_file()
    # At the top of the post, and only once on the page.
    content = page.select_one("main article .post-content")
    assert content.find(True) is note
    assert page.get_text().count("Note added October 2017") == 1


def test_follow_up_links_back_with_month_and_year(sample_site: Path) -> None:
    page = read_html(sample_site / "2017/10/the-rules-we-settled-on/index.html")
    note = note_on(page)
    text = words(note)
    assert text == "This post follows up Texting my therapist (March 2016)."
    assert note.find("a")["href"] == "/2016/03/texting-my-therapist/"
    assert "Note added" not in page.get_text()


def test_note_is_in_the_posts_feed_entry_but_not_its_home_page_summary(sample_site: Path) -> None:
    feed = ET.parse(sample_site / "feeds/all.atom.xml").getroot()
    entries = {
        entry.find(f"{ATOM}title").text: entry.find(f"{ATOM}content").text
        for entry in feed.iter(f"{ATOM}entry")
    }
    entry = BeautifulSoup(entries["Texting my therapist"], "html.parser")
    assert "Note added October 2017: This post was written" in entry.get_text()
    assert entry.find("a", string="The rules we settled on") is not None
    follow_up = BeautifulSoup(entries["The rules we settled on"], "html.parser")
    assert "This post follows up Texting my therapist (March 2016)." in follow_up.get_text()

    home = read_html(sample_site / "index.html").get_text()
    home_2 = read_html(sample_site / "page/2/index.html").get_text()
    assert "Texting my therapist" in home + home_2
    assert "Note added" not in home + home_2
    assert "This post follows up" not in home + home_2


def write_post(content: Path, slug: str, date: str, **metadata: str) -> Path:
    """A small post in `content`; `metadata` keys are written as Pelican front matter."""
    lines = [f"Title: Post {slug.upper()}", f"Date: {date}", f"Slug: {slug}"]
    lines += [f"{key}: {value}" for key, value in metadata.items()]
    path = content / f"{slug}.md"
    body = f"The words of post {slug}, written on a quiet evening."
    path.write_text("\n".join(lines) + "\n\n" + body + "\n", encoding="utf-8")
    return path


def test_chain_of_three_with_a_post_followed_up_twice(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write_post(
        content, "a", "2016-01-10", Note_date="2016-07-01", Note="Things moved on.", Followup="b, c"
    )
    write_post(content, "b", "2016-06-01", Note_date="2017-02-01", Followup="c")
    write_post(content, "c", "2017-01-05")
    output = tmp_path / "output"
    result = run_pelican(content, output, ONLY_UPDATE_NOTES)
    assert result.returncode == 0, result.stdout + result.stderr

    def note_text(path: str) -> tuple[str, dict[str, str]]:
        note = note_on(read_html(output / path))
        links = {a.get_text(): a["href"] for a in note.find_all("a")}
        return words(note), links

    text, links = note_text("2016/01/a/index.html")
    assert (
        text == "Note added July 2016: Things moved on. For the follow-ups, read Post B and Post C."
    )
    assert links == {"Post B": "/2016/06/b/", "Post C": "/2017/01/c/"}

    text, links = note_text("2016/06/b/index.html")
    assert text == (
        "This post follows up Post A (January 2016). "
        "Note added February 2017: For the follow-up, read Post C."
    )
    assert links == {"Post A": "/2016/01/a/", "Post C": "/2017/01/c/"}

    text, links = note_text("2017/01/c/index.html")
    assert text == "This post follows up Post A (January 2016) and Post B (June 2016)."
    assert links == {"Post A": "/2016/01/a/", "Post B": "/2016/06/b/"}


def test_multi_line_note_is_joined_into_one_sentence(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        textwrap.dedent(
            """\
            Title: Post A
            Date: 2016-01-10
            Note_date: 2016-02-01
            Note: A note written
                over two lines.

            Body.
            """
        ),
        encoding="utf-8",
    )
    output = tmp_path / "output"
    result = run_pelican(content, output, ONLY_UPDATE_NOTES)
    assert result.returncode == 0, result.stdout + result.stderr
    note = note_on(read_html(output / "2016/01/post-a/index.html"))
    assert words(note) == "Note added February 2016: A note written over two lines."


@pytest.mark.parametrize(
    ("posts", "bad_file", "expected"),
    [
        pytest.param(
            {"a": {"Note_date": "2016-05-01", "Followup": "nobody-wrote-this"}},
            "a.md",
            "Followup 'nobody-wrote-this' names no post",
            id="unknown-followup",
        ),
        pytest.param(
            {"a": {"Note_date": "2016-05-01", "Followup": "a"}},
            "a.md",
            "Followup 'a' is the post itself",
            id="follows-itself",
        ),
        pytest.param(
            {
                "a": {"Note_date": "2016-05-01", "Followup": "b"},
                "b": {"Note_date": "2016-05-01", "Followup": "a"},
            },
            "a.md",
            "Followup 'b' makes a cycle: a -> b -> a",
            id="cycle",
        ),
        pytest.param(
            {
                "a": {"Note_date": "2016-05-01", "Followup": "b"},
                "b": {"Note_date": "2016-05-01", "Followup": "good, c"},
                "c": {"Note_date": "2016-05-01", "Followup": "a"},
            },
            "a.md",
            "Followup 'b' makes a cycle: a -> b -> c -> a",
            id="cycle-of-three",
        ),
        pytest.param(
            {"a": {"Note_date": "2015-12-31", "Note": "Too early."}},
            "a.md",
            "Note_date '2015-12-31' is before the post's own date 2016-01-10",
            id="note-before-post",
        ),
        pytest.param(
            {"a": {"Note_date": "Octember 2017", "Note": "When?"}},
            "a.md",
            "Note_date 'Octember 2017' is not a date in YYYY-MM-DD form",
            id="unparsable-date",
        ),
    ],
)
def test_bad_metadata_stops_the_build_naming_file_and_value(
    tmp_path: Path, posts: dict[str, dict[str, str]], bad_file: str, expected: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write_post(content, "good", "2016-01-01")
    for slug, metadata in posts.items():
        write_post(content, slug, "2016-01-10", **metadata)
    output = tmp_path / "output"
    result = run_pelican(content, output, ONLY_UPDATE_NOTES)
    assert result.returncode != 0
    messages = result.stdout + result.stderr
    assert f"{content / bad_file}: {expected}" in messages
    assert not (output / "index.html").exists()


def test_invoke_build_exits_non_zero_on_a_bad_followup(tmp_path: Path) -> None:
    """The command a person types, on a copy of the project with one broken Followup."""
    project = tmp_path / "project"
    for name in ("content", "theme", "plugins"):
        shutil.copytree(PROJECT_ROOT / name, project / name)
    for name in ("tasks.py", "pelicanconf.py", "publishconf.py"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    post = project / "content/texting-my-therapist.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace(
            "Followup: the-rules-we-settled-on", "Followup: the-rules-we-never-wrote"
        ),
        encoding="utf-8",
    )
    invoke = Path(sys.executable).with_name("invoke")
    result = subprocess.run(
        [str(invoke), "build"], cwd=project, capture_output=True, text=True, timeout=600
    )
    assert result.returncode != 0
    messages = " ".join((result.stdout + result.stderr).split())
    assert "texting-my-therapist.md" in messages
    assert "'the-rules-we-never-wrote' names no post" in messages
    assert not (project / "output/2016/03/texting-my-therapist/index.html").exists()
