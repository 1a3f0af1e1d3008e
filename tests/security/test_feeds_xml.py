"""Threat: a comment holding characters XML cannot carry (U+FFFE, U+FFFF, control
characters) makes every comment feed invalid XML, so feed readers drop the whole feed
(issue 12, item 6). The intake refuses them (tests/security/test_intake_input.py); the
feed writer must never emit one whatever a hand-written or imported file holds. Nor does
a body on the page (in HTML they are parse errors): rendering drops them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from bs4 import BeautifulSoup

from tests.support.comment_site import write_comment, write_post
from tests.support.site import run_pelican

ATOM = "{http://www.w3.org/2005/Atom}"


def test_both_comment_feeds_stay_valid_xml_whatever_a_comment_file_holds(tmp_path):
    content = tmp_path / "content"
    write_post(content, "first-post", "2016-03-14 20:00")
    write_comment(
        content,
        "first-post",
        "c001",
        "Between\ufffe the sessions \uffff I wrote \x0b this.",
        author="Wren\uffff",
    )
    write_comment(content, "first-post", "c002", "A plain reply.", author="Ash", replyto="c001")
    output = tmp_path / "output"

    result = run_pelican(content, output)

    assert result.returncode == 0, result.stdout + result.stderr
    for feed in ("feeds/comments.atom.xml", "feeds/comments/first-post.atom.xml"):
        root = ElementTree.parse(output / feed).getroot()  # raises on invalid XML
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 2
        text = ElementTree.tostring(root, encoding="unicode")
        assert "the sessions" in text and "Ash" in text
        assert not {"\ufffe", "\uffff", "\x0b"} & set(text)
    page = BeautifulSoup(next(output.rglob("first-post/index.html")).read_bytes(), "html.parser")
    body = page.select_one("#comment-c001 .comment-content").decode_contents()
    assert "the sessions" in body
    assert not {"\ufffe", "\uffff", "\x0b"} & set(body)
