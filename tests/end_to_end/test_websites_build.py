"""A website the intake accepts always builds: intake, publishing and the plugin share one
rule (threaded_comments.website_problem).

Tricky addresses go through the HTTP intake; every one it accepts is approved, published
by the pipeline's publishing step and built with the project's settings, theme and plugins.
The build must pass and each accepted address must be the commenter's link, unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
from threaded_comments import PostEntry, write_comments_json

from moderation import inbox
from moderation.inbox import Status
from moderation.intake.app import create_app
from moderation.pipeline import publish
from tests.support.intake import running, valid_comment
from tests.support.moderation import POST, POST_URL, make_project
from tests.support.site import read_html, run_pelican

WEBSITES = [
    "https://wren.example.net",
    "HTTPS://WREN.EXAMPLE.NET/Upper/Case",
    "http://x.example:8443/~me/?a=1&b=2#part",
    "http://x.com/a(b)c",
    "http://x.com/%22onmouseover%3D%22alert(1)",
    "https://user@host.example/",
    "http://[2001:db8::1]/",
    "http://例え.jp/パス",
    "https://x.example/" + "a" * 182,  # 200 characters: the limit
    # Refused: each would end the attribute, break a line or fail the build.
    'http://x.com/"onmouseover="alert(1)',
    "http://x.com/'onmouseover='alert(1)",
    "https://x.example/<script>",
    "https://x.example/a b",
    "https://x.example/\u202eevil",
    "https://x.example/`",
    "javascript:alert(1)",
    "http://",
    "http://[::1",
    "https://x.example/" + "a" * 183,
]


def test_every_website_the_intake_accepts_is_published_and_builds(site_copy, tmp_path):
    settings = make_project(tmp_path / "project")
    # One reader sends them all: the comment rate limit would stop her at the sixth.
    settings = replace(settings, intake=replace(settings.intake, comment_rate_limit=None))
    write_comments_json(
        settings.comments_json,
        [PostEntry(POST, POST_URL, "Texting my therapist", True, comments=())],
    )
    accepted = {}
    with running(create_app(settings)) as url:
        for number, website in enumerate(WEBSITES):
            fields = valid_comment(website=website, comment=f"Website number {number}.")
            answer = httpx.post(url + "/api/comments", json=fields)
            assert answer.status_code in (202, 422), answer.text
            if answer.status_code == 202:
                accepted[answer.json()["id"]] = website
    assert sorted(accepted.values()) == sorted(WEBSITES[:9])

    connection = inbox.connect(settings.inbox)
    with inbox.transaction(connection):
        for comment_id in accepted:
            inbox.decide(connection, comment_id, Status.APPROVED, "author", ["test"])
    report = publish.publish(connection, site_copy / "comments", settings.timezone)
    assert sorted(report.published) == sorted(accepted)

    result = run_pelican(site_copy, tmp_path / "output")
    assert result.returncode == 0, result.stdout + result.stderr
    page = read_html(tmp_path / "output" / POST_URL.strip("/") / "index.html")
    for comment_id, website in accepted.items():
        comment = page.find(id=f"comment-{comment_id}")
        assert comment is not None, website
        assert comment.find("a", class_="url")["href"] == website
