"""The threaded_comments plugin's parts, each on its own: reading, threading, wording, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo

import pytest
from threaded_comments import cache
from threaded_comments.markup import likes_text
from threaded_comments.reader import Comment, CommentFileError, read_comment
from threaded_comments.settings import SettingsError, comment_settings
from threaded_comments.threads import build_thread, flatten

LONDON = ZoneInfo("Europe/London")


def make(comment_id: str, minutes: int, replyto: str | None = None) -> Comment:
    start = datetime(2016, 3, 15, 10, 0, tzinfo=UTC)
    return Comment(
        id=comment_id,
        post="p",
        author=f"Name {comment_id}",
        date=start + timedelta(minutes=minutes),
        body="x",
        replyto=replyto,
        source_path=f"comments/p/{comment_id}.md",
    )


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
    comment = read_comment(path, "p", LONDON)
    assert comment.author == "Ruth Ann"
    assert comment.date == datetime(2016, 7, 1, 9, 30, tzinfo=LONDON)
    assert comment.date.utcoffset() == timedelta(hours=1)
    assert comment.website == "https://ruth.example/garden"
    assert comment.likes == 2
    assert comment.body == "Hello\nthere"
    assert "email" not in Comment.__slots__
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
        read_comment(path, "p", LONDON)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_file_name_that_is_not_a_safe_id_is_an_error(tmp_path):
    path = tmp_path / "two words.md"
    path.write_text("author: A\ndate: 2016-01-01\n\nx", encoding="utf-8")
    with pytest.raises(CommentFileError, match="comment id"):
        read_comment(path, "p", LONDON)


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


def test_the_reader_sends_the_folders_first_then_posts_in_the_order_asked_for(tmp_path):
    from threaded_comments.prefetch import Job, run

    for slug in ("a-post", "b-post", "c-post", "d-post"):
        folder = tmp_path / slug
        folder.mkdir()
        (folder / f"{slug}-1.md").write_text(
            "author: Reader\ndate: 2016-03-15T10:00:00+00:00\n\nHello.\n", encoding="utf-8"
        )
    sent = []
    orders = iter([["d-post", "b-post"]])
    options = comment_settings({})
    run(Job(tmp_path, options, "UTC", {}), sent.append, lambda: next(orders, None))
    kinds = [message[0] for message in sent]
    assert kinds == ["folders", "post", "post", "post", "post", "done"]
    assert sent[0][1] == {"a-post": 1, "b-post": 1, "c-post": 1, "d-post": 1}
    read = [message[1] for message in sent[1:5]]
    assert read[:2] == ["d-post", "b-post"]
    assert sorted(read) == ["a-post", "b-post", "c-post", "d-post"]
    entry = sent[1][2]
    assert entry.count == 1 and "<p>Hello.</p>" in entry.html
    assert sent[-1] == ("done",)


def test_a_lazy_thread_html_is_a_string_made_once_when_first_used():
    from threaded_comments.lazy import LazyHTML

    calls = []

    def load() -> str:
        calls.append(1)
        return "<ol>x</ol>"

    html = LazyHTML(load)
    assert calls == []
    assert str(html) == "<ol>x</ol>" and html == "<ol>x</ol>" and len(html) == 10
    assert "x" in html and html.__html__() == "<ol>x</ol>" and f"{html}" == "<ol>x</ol>"
    assert calls == [1]


def test_the_cache_is_dropped_when_a_renderer_library_changes(monkeypatch):
    options = comment_settings({})
    before = cache.code_fingerprint(options)
    assert cache.code_fingerprint(options) == before
    monkeypatch.setattr(
        cache, "version", lambda library: "0.0.1" if library == "nh3" else version(library)
    )
    assert cache.code_fingerprint(options) != before
