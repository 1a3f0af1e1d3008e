"""The threaded_comments plugin's parts, each on its own: reading, threading, wording,
settings, the cache's fingerprint."""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from threaded_comments import (
    Comment,
    CommentFile,
    CommentFileError,
    PostEntry,
    SettingsError,
    cache,
    comment_settings,
    folders,
    likes_text,
    read_comment_file,
    read_comments_json,
    website_problem,
    write_comments_json,
)
from threaded_comments.comment_file import _split_header
from threaded_comments.folders import find_comment_folders, read_comment_folder
from threaded_comments.threads import ThreadOnDemand, build_thread, flatten

LONDON = ZoneInfo("Europe/London")


def make(comment_id: str, minutes: int, replyto: str | None = None) -> Comment:
    start = datetime(2016, 3, 15, 10, 0, tzinfo=UTC)
    file = CommentFile(
        id=comment_id,
        author=f"Name {comment_id}",
        date=start + timedelta(minutes=minutes),
        body="x",
        replyto=replyto,
    )
    return Comment(file, source_path=f"comments/p/{comment_id}.md", content="<p>x</p>")


def test_thread_orders_each_level_by_date_and_breaks_ties_by_id():
    comments = [make("b", 5), make("a", 5), make("c", 1), make("r", 9, "b"), make("q", 2, "b")]
    top = build_thread(comments, max_depth=5, newest_first=False)
    assert [c.id for c in top] == ["c", "a", "b"]
    assert [c.id for c in top[2].replies] == ["q", "r"]
    assert [c.id for c in flatten(top)] == ["c", "a", "b", "q", "r"]
    newest = build_thread(comments, max_depth=5, newest_first=True)
    assert [c.id for c in newest] == ["b", "a", "c"]


def test_depth_one_flattens_every_reply_after_its_thread_with_in_reply_to():
    comments = [make("a", 0), make("b", 1, "a"), make("c", 2, "b"), make("d", 3)]
    top = build_thread(comments, max_depth=1, newest_first=False)
    assert [(c.id, c.depth, c.in_reply_to) for c in top] == [
        ("a", 1, None),
        ("b", 1, "Name a"),
        ("c", 1, "Name b"),
        ("d", 1, None),
    ]


def test_a_chain_of_replies_longer_than_pythons_recursion_limit_is_threaded():
    # Two readers answering each other, reply after reply, shown at MAX_DEPTH in order.
    length = sys.getrecursionlimit() + 500
    comments = [make("c0", 0)] + [make(f"c{n}", n, f"c{n - 1}") for n in range(1, length)]
    top = build_thread(comments, max_depth=5, newest_first=False)
    placed = flatten(top)
    assert [c.id for c in placed] == [f"c{n}" for n in range(length)]
    assert [c.number for c in placed] == list(range(1, length + 1))
    assert placed[-1].depth == 5
    assert placed[-1].in_reply_to == f"Name c{length - 2}"


def test_threading_leaves_no_reference_cycles_for_the_garbage_collector():
    # A big site's comments are then freed as soon as their post is done with them, not
    # at the collector's next pass over everything still alive.
    comments = [make("a", 0), make("b", 1, "a"), make("c", 2, "b"), make("d", 3, "a")]
    gc.collect()
    gc.disable()
    try:
        build_thread(comments, max_depth=2, newest_first=False)
        del comments
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_reply_to_a_missing_comment_or_a_loop_is_an_error_naming_the_file():
    with pytest.raises(CommentFileError, match=r"comments/p/b\.md: replyto 'zz'"):
        build_thread([make("a", 0), make("b", 1, "zz")], 5, False)
    with pytest.raises(CommentFileError, match=r"comments/p/a\.md: its replyto chain loops"):
        build_thread([make("a", 0, "b"), make("b", 1, "a"), make("c", 2)], 5, False)


@pytest.mark.parametrize(
    ("likes", "text"), [(0, ""), (1, "Liked by 1 person"), (2, "Liked by 2 people")]
)
def test_likes_wording(likes, text):
    assert likes_text(likes) == text


def test_reader_takes_crlf_bom_continuations_naive_dates_and_drops_email(tmp_path):
    path = tmp_path / "c1.md"
    path.write_bytes(
        "\ufeffAuthor: Ruth\r\n  Ann\r\nemail: ruth@example.org\r\ndate: 2016-07-01 09:30\r\n"
        "website: https://ruth.example/garden\r\nlikes: 2\r\n\r\nHello\r\nthere\r\n".encode()
    )
    comment = read_comment_file(path, LONDON)
    assert comment.author == "Ruth Ann"
    assert comment.date == datetime(2016, 7, 1, 9, 30, tzinfo=LONDON)
    assert comment.date.utcoffset() == timedelta(hours=1)
    assert comment.website == "https://ruth.example/garden"
    assert comment.likes == 2
    assert comment.body == "Hello\nthere"
    assert "email" not in CommentFile.__slots__
    assert "ruth@example.org" not in repr(comment)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("author: A\nauthor: B\ndate: 2016-01-01\n\nx", "'author' is given twice"),
        ("author A\ndate: 2016-01-01\n\nx", "line 1 is not 'key: value'"),
        ("author: A\ndate: 2016-01-01\nauthor_role: admin\n\nx", "author_role may only be"),
        ("author: A\ndate: 2016-01-01\nlikes: -1\n\nx", "likes must be a whole number"),
        ("author: A\ndate: 2016-01-01", "missing body"),
    ],
)
def test_reader_errors_name_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommentFileError) as caught:
        read_comment_file(path, LONDON)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_file_name_that_is_not_a_safe_id_is_an_error(tmp_path):
    path = tmp_path / "two words.md"
    path.write_text("author: A\ndate: 2016-01-01\n\nx", encoding="utf-8")
    with pytest.raises(CommentFileError, match="comment id"):
        read_comment_file(path, LONDON)


def test_settings_merge_defaults_and_reject_mistakes():
    merged = comment_settings({"THREADED_COMMENTS": {"MAX_DEPTH": 3}})
    assert merged["MAX_DEPTH"] == 3
    assert merged["FORM_ACTION"] == "/api/comments"
    for wrong in (
        {"MAX_DPETH": 3},
        {"ORDER": "random"},
        {"MAX_DEPTH": 0},
        {"CLOSE_AFTER_DAYS": -1},
    ):
        with pytest.raises(SettingsError, match="threaded_comments"):
            comment_settings({"THREADED_COMMENTS": wrong})


def test_a_comment_reads_its_files_fields_beside_its_own():
    comment = make("a", 0, replyto="z")
    assert (comment.id, comment.author, comment.replyto) == ("a", "Name a", "z")
    assert comment.likes == 0 and comment.likes_text == "" and not comment.is_author
    assert comment.content == "<p>x</p>"
    with pytest.raises(AttributeError):
        _ = comment.email


def write(path, text="author: Reader\ndate: 2016-03-15T10:00:00+00:00\n\nHello.\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_folders_are_found_with_their_comment_files_and_read_in_name_order(tmp_path, caplog):
    for slug in ("a-post", "b-post"):
        write(tmp_path / slug / "2.md")
        write(tmp_path / slug / "10.markdown")
    write(tmp_path / "a-post" / "notes.txt", "not a comment")
    write(tmp_path / "a-post" / ".2.md.1234.tmp", "a write in progress")
    (tmp_path / "empty-post").mkdir()
    with caplog.at_level(logging.WARNING):
        folders = find_comment_folders(tmp_path)
    assert sorted(folders) == ["a-post", "b-post"]
    assert folders["a-post"].names == ("10.markdown", "2.md")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"threaded_comments: skipping {tmp_path / 'a-post' / 'notes.txt'} "
        "(not a .md or .markdown comment file)"
    ]
    read = read_comment_folder(folders["b-post"], LONDON)
    assert [(os.path.basename(path), file.id, file.body) for path, file in read] == [
        ("10.markdown", "10", "Hello."),
        ("2.md", "2", "Hello."),
    ]


@pytest.mark.parametrize("in_open_folder", [True, False], ids=["posix", "by-path"])
def test_folders_are_stamped_alike_by_name_in_the_open_folder_and_by_path(
    tmp_path, monkeypatch, caplog, in_open_folder
):
    # Where os.stat takes no dir_fd (Windows), files are stat'ed by their whole path.
    if in_open_folder and not folders._STAT_IN_OPEN_FOLDER:
        pytest.skip("this platform cannot stat a name in an open folder")
    monkeypatch.setattr(folders, "_STAT_IN_OPEN_FOLDER", in_open_folder)
    write(tmp_path / "p" / "b.md")
    write(tmp_path / "p" / "a.md", "A longer comment than b's.")
    os.utime(tmp_path / "p" / "a.md", ns=(0, 1_500_000_000_123_456_789))
    (tmp_path / "p" / "notes.md").mkdir()
    with caplog.at_level(logging.WARNING):
        found = find_comment_folders(tmp_path)
    a, b = (tmp_path / "p" / name for name in ("a.md", "b.md"))
    assert found["p"].names == ("a.md", "b.md")
    assert found["p"].stamp == (
        1_500_000_000_123_456_789,
        a.stat().st_size,
        b.stat().st_mtime_ns,
        b.stat().st_size,
    )
    assert [record.getMessage() for record in caplog.records] == [
        f"threaded_comments: skipping {tmp_path / 'p' / 'notes.md'} "
        "(not a .md or .markdown comment file)"
    ]


def test_one_id_in_two_files_is_an_error_naming_both(tmp_path):
    write(tmp_path / "p" / "a.md")
    write(tmp_path / "p" / "a.markdown")
    with pytest.raises(CommentFileError) as caught:
        find_comment_folders(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'p' / 'a.md'}: has the same comment id as {tmp_path / 'p' / 'a.markdown'}"
    )


def test_the_cache_is_dropped_when_a_renderer_library_changes(monkeypatch):
    options = comment_settings({})
    before = cache.code_fingerprint(options, "template")
    assert cache.code_fingerprint(options, "template") == before
    assert cache.code_fingerprint(options, "another template") != before
    assert cache.code_fingerprint({**options, "MAX_DEPTH": 2}, "template") != before
    monkeypatch.setattr(
        cache, "version", lambda library: "0.0.1" if library == "nh3" else version(library)
    )
    assert cache.code_fingerprint(options, "template") != before


def test_builds_at_once_append_texts_without_writing_over_each_other(tmp_path):
    # `invoke livereload` may rebuild while a moderation run does: both append to the
    # texts file their pickles point into, and each must read back what it wrote.
    first = cache.TextsFile.new(tmp_path)
    base = first.append(b"a thread both builds loaded")
    first.close()
    one, two = (cache.TextsFile.open(first.path, first.end) for _ in range(2))
    spans = one.append(b"one build's new thread"), two.append(b"the other's")
    assert [one.read(spans[0]), two.read(spans[1]), two.read(base)] == [
        b"one build's new thread",
        b"the other's",
        b"a thread both builds loaded",
    ]


class Texts(NamedTuple):
    html: str | cache.Span
    note: int


def test_a_build_whose_texts_file_another_deleted_saves_its_texts_to_a_new_one(tmp_path):
    settings = {"CACHE_PATH": str(tmp_path), "CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True}

    def load() -> cache.CommentCache:
        return cache.CommentCache(settings, "fingerprint", ["html"])

    earlier = load()
    earlier.store_post("/kept/", "stamp", Texts("<p>kept</p>", 1))
    earlier.save()
    running = load()
    assert running.get_post("/kept/", "stamp") is not None
    for path in tmp_path.glob("threaded_comments.*.texts"):  # another build moved them
        path.unlink()
    running.store_post("/new/", "stamp", Texts("<p>new</p>", 2))
    running.save()
    later = load()
    kept, new = later.get_post("/kept/", "stamp"), later.get_post("/new/", "stamp")
    assert (later.read(kept.html), kept.note) == (b"<p>kept</p>", 1)
    assert (later.read(new.html), new.note) == (b"<p>new</p>", 2)


def test_two_builds_at_once_that_both_make_the_texts_file_keep_their_own_texts(tmp_path):
    # A cache saved with no texts names a file not made yet; two builds that load it
    # and save at once cannot both make it.
    settings = {"CACHE_PATH": str(tmp_path), "CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True}

    def load() -> cache.CommentCache:
        return cache.CommentCache(settings, "fingerprint", ["html"])

    empty = load()
    empty.record_site_files((), ())
    empty.save()
    one, other = load(), load()
    one.store_post("/one/", "stamp", Texts("<p>one</p>", 1))
    other.store_post("/other/", "stamp", Texts("<p>other</p>", 2))
    one.save()
    other.save()
    later = load()
    post = later.get_post("/other/", "stamp")
    assert later.read(post.html) == b"<p>other</p>"


def test_a_thread_on_demand_is_made_once_when_first_looked_at_and_reads_as_its_list():
    made = []

    def make_thread():
        made.append(1)
        return build_thread([make("a", 0), make("b", 1, "a"), make("c", 2)], 5, False)

    thread = ThreadOnDemand(make_thread)
    assert made == []
    assert [c.id for c in thread] == ["a", "c"]
    assert len(thread) == 2 and thread[0].replies[0].id == "b" and thread[-1].id == "c"
    assert bool(thread) and next(reversed(thread)).id == "c"
    assert made == [1]


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("Author: Ruth", "author", "Ruth"),
        ("author :Ruth", "author", "Ruth"),
        ("author:\tRuth: Ann  ", "author", "Ruth: Ann"),
        ("x-Custom_1: y", "x-custom_1", "y"),
    ],
)
def test_header_lines_read_as_key_and_value(line, key, value):
    metadata, body = _split_header("c.md", f"{line}\n\nBody.")
    assert metadata == {key: value} and body == "Body."


@pytest.mark.parametrize("line", ["1key: x", "two words: x", "no colon", ": x", "k\u00e9y: x"])
def test_a_header_line_without_an_identifier_key_is_an_error(line):
    with pytest.raises(CommentFileError, match="line 1 is not 'key: value'"):
        _split_header("c.md", f"{line}\n\nBody.")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.org/a?b=c#d", True),
        ("https://ex\u00e4mple.org/caf\u00e9", True),
        ("https://example.org/a b", False),
        ("https://example.org/\x7f", False),
        ("https://example.org/\x1f", False),
        ("https://example.org/\u00a0", False),
        ("https://example.org/\u200b", False),
        ('https://example.org/"', False),
        ("https://example.org/`", False),
    ],
)
def test_the_website_rule_is_the_same_for_ascii_and_other_text(url, allowed):
    assert (website_problem(url) is None) is allowed


def test_comments_json_is_rewritten_only_when_what_it_holds_changed(tmp_path):
    # An unchanged file keeps its date (and inode), so a deploy does not send it again.
    path = tmp_path / "comments.json"
    post = PostEntry(slug="a-post", url="/a-post/", title="A post", open=True, comments=("c1",))
    write_comments_json(path, [post])
    before = path.stat()
    write_comments_json(path, [post])
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    write_comments_json(path, [replace(post, comments=("c1", "c2"))])
    assert read_comments_json(path)["a-post"].comments == ("c1", "c2")
