"""Reply mail in the going-live setup (issue 14): the server sends it, and only once the
live site shows the reply. The intake runs as its systemd unit behind the real Caddy,
with a real SMTP server on loopback; a second checkout stands for the author's laptop,
moderating through the admin API with HOLD_FIRST_COMMENT on, as shipped.

Fern comments and confirms reply mail. The author approves her first comment from the
laptop's review and deploys. Ash replies; the author approves it with a `moderate` that
does not deploy: nothing is mailed. `invoke deploy` then makes the server send exactly
one mail to Fern. After the purge has forgotten Fern's address, her next comment is not
held as a first comment: the server remembered her approval.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from moderation import inbox
from tests.support.akismet_standin import AkismetStandIn
from tests.support.deploy import GoingLive, going_live
from tests.support.intake import INVOKE
from tests.support.smtp import Received, SmtpServer
from tests.support.terminal import PROMPT, Terminal

TOKEN = "bGFudGVybnMtYWxvbmctdGhlLWNhbmFsLWF0LWR1c2s"
POST = "texting-my-therapist"
POST_PATH = "/2016/03/texting-my-therapist/"
FERN = ("Fern", "fern.live@example.org")
ASH = ("Ash", "ash.live@example.org")
ROWAN = ("Rowan", "rowan.live@example.org")
FERN_WORDS = "The drive home after a session is when everything lands for me."
ASH_WORDS = "Same here: I sit in the car park for ten minutes before I can drive."
FERN_AGAIN = "Coming back to this post a month later, still nodding along."


class Laptop:
    """The author's checkout, with what going live needs in its environment."""

    def __init__(self, live: GoingLive, akismet: AkismetStandIn) -> None:
        self.live = live
        clean = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("BETWEEN_SESSIONS_", "PYTHON_AKISMET", "AKISMET", "COMMENT_INTAKE", "SSL_")
            )
        }
        self.environment = {
            **clean,
            **akismet.environment(),
            "BETWEEN_SESSIONS_SITEURL": live.url,
            "BETWEEN_SESSIONS_DEPLOY_TARGET": str(live.www),
            "BETWEEN_SESSIONS_ADMIN_TOKEN": TOKEN,
            "BETWEEN_SESSIONS_INBOX_URL": live.url,
            "NO_COLOR": "1",
            "COLUMNS": "160",
        }

    def review_and_approve(self, *options: str) -> str:
        """`invoke moderate` on a terminal, approving the one comment it shows."""
        terminal = Terminal(
            [str(INVOKE), "moderate", *options], self.environment, cwd=self.live.laptop
        )
        terminal.expect(PROMPT, timeout=120)
        terminal.type("a")
        code = terminal.close()
        assert code == 0, terminal.screen
        return terminal.screen

    def review_and_reply(self, reply: str, *options: str) -> str:
        """`invoke moderate` on a terminal, answering the one comment it shows with `reply`
        (her editor, here a script that writes it)."""
        editor = self.live.laptop / "reply-editor.sh"
        editor.write_text(f"#!/bin/sh\nprintf '%s' '{reply}' > \"$1\"\n", encoding="utf-8")
        editor.chmod(0o755)
        terminal = Terminal(
            [str(INVOKE), "moderate", *options],
            {**self.environment, "EDITOR": str(editor)},
            cwd=self.live.laptop,
        )
        terminal.expect(PROMPT, timeout=120)
        terminal.type("r")
        terminal.expect("is published with this comment", timeout=60)
        code = terminal.close()
        assert code == 0, terminal.screen
        return terminal.screen

    def invoke(self, *task: str) -> None:
        done = subprocess.run(
            [str(INVOKE), *task],
            cwd=self.live.laptop,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[GoingLive, Laptop, SmtpServer]]:
    smtp = SmtpServer(tmp_path)
    with smtp, AkismetStandIn() as akismet, going_live(tmp_path, TOKEN, smtp.environment()) as live:
        with (live.laptop / "pelicanconf.py").open("a", encoding="utf-8") as settings:
            # As shipped: a first comment waits for the author.
            settings.write('MODERATION = {**MODERATION, "HOLD_FIRST_COMMENT": True}\n')
        laptop = Laptop(live, akismet)
        laptop.invoke("deploy")
        yield live, laptop, smtp


def post(live: GoingLive, who: tuple[str, str], words: str, **fields: str) -> str:
    answer = httpx.post(
        live.url + "/api/comments",
        data={"post": POST, "author": who[0], "email": who[1], "comment": words, **fields},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def server_inbox(live: GoingLive) -> sqlite3.Connection:
    return inbox.connect(live.server / "var" / "inbox.sqlite3")


def replies_to(smtp: SmtpServer, address: str) -> list[Received]:
    return [
        m for m in smtp.messages if m.recipients == [address] and "replied" in m.message["Subject"]
    ]


def test_reply_mail_goes_out_from_the_server_after_the_deploy(setup) -> None:
    live, laptop, smtp = setup
    fern = post(live, FERN, FERN_WORDS, subscribe="1")
    [confirmation] = smtp.wait_for(1)
    link = re.search(r"http://\S+/api/subscriptions/confirm\?token=\S+", confirmation.text)
    assert link is not None and link.group(0).startswith(live.url)
    assert httpx.post(link.group(0)).status_code == 200

    # Her first comment waits for the author, who approves it on the laptop and deploys.
    screen = laptop.review_and_approve("--inbox", live.url, "--deploy")
    assert "first comment from this email address" in screen
    assert FERN_WORDS in httpx.get(live.url + POST_PATH).text

    # A month on, the server's purge has forgotten Fern's address in her comment.
    connection = server_inbox(live)
    now = datetime.now(UTC).replace(microsecond=0)
    with inbox.transaction(connection):
        connection.execute(
            "UPDATE comments SET decided_at = ? WHERE id = ?",
            ((now - timedelta(days=60)).isoformat(), fern),
        )
        inbox.purge_private_details(connection, (now - timedelta(days=30)).isoformat())
    assert inbox.get_comment(connection, fern)["email"] is None

    # Ash replies; the author approves it without deploying: the reply is not live yet.
    ash = post(live, ASH, ASH_WORDS, replyto=fern)
    laptop.review_and_approve("--inbox", live.url, "--no-build")
    assert inbox.get_comment(connection, ash)["published_at"] is not None
    assert ASH_WORDS not in httpx.get(live.url + POST_PATH).text
    # Rowan's confirmation shows the server's sender has made a pass since: due mail
    # would have gone out with it.
    post(live, ROWAN, "Thank you for writing this one.", subscribe="1")
    smtp.wait_for(2)
    assert [m.recipients for m in smtp.messages] == [[FERN[1]], [ROWAN[1]]]

    laptop.invoke("deploy")
    assert ASH_WORDS in httpx.get(live.url + POST_PATH).text
    smtp.wait_for(3)
    [mail] = replies_to(smtp, FERN[1])
    assert ASH_WORDS in mail.text
    assert f"{live.url}{POST_PATH}#comment-{ash}" in mail.text
    assert ASH[1] not in mail.message.as_string()

    # Fern comes back: remembered by the server, her comment is not held as a first one.
    again = post(live, FERN, FERN_AGAIN)
    laptop.invoke("moderate", "--no-input", "--no-build", "--inbox", live.url)
    assert inbox.get_comment(connection, again)["status"] == "approved"
    laptop.invoke("deploy")  # nothing held: nothing more is mailed
    assert replies_to(smtp, FERN[1]) == [mail]
    assert len(smtp.messages) == 3
    connection.close()


AUTHOR_REPLY = "Thank you, Fern. The car park pause is something I do too."


def test_the_authors_reply_from_the_laptop_is_mailed_from_the_server(setup) -> None:
    live, laptop, smtp = setup
    fern = post(live, FERN, FERN_WORDS, subscribe="1")
    [confirmation] = smtp.wait_for(1)
    link = re.search(r"http://\S+/api/subscriptions/confirm\?token=\S+", confirmation.text)
    assert link is not None and httpx.post(link.group(0)).status_code == 200

    # The author answers Fern's first comment in the laptop's review, and deploys.
    laptop.review_and_reply(AUTHOR_REPLY, "--inbox", live.url, "--deploy")
    page = httpx.get(live.url + POST_PATH).text
    assert FERN_WORDS in page and AUTHOR_REPLY in page

    # The server knows the reply as the author's, published, and has mailed Fern once.
    connection = server_inbox(live)
    [reply] = connection.execute("SELECT * FROM comments WHERE parent_id = ?", (fern,)).fetchall()
    assert (reply["author_role"], reply["body"]) == ("author", AUTHOR_REPLY)
    assert reply["published_at"] is not None and reply["email"] == ""
    smtp.wait_for(2)
    [mail] = replies_to(smtp, FERN[1])
    assert AUTHOR_REPLY in mail.text
    assert f"{live.url}{POST_PATH}#comment-{reply['id']}" in mail.text

    # The file on the laptop has the same id: the next run sends nothing twice.
    assert (live.laptop / "content/comments" / POST / f"{reply['id']}.md").is_file()
    laptop.invoke("moderate", "--no-input", "--inbox", live.url, "--deploy")
    assert replies_to(smtp, FERN[1]) == [mail]
    assert connection.execute("SELECT count(*) FROM comments").fetchone()[0] == 2
    connection.close()
