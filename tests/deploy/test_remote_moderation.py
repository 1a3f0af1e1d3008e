"""Going live, end to end on loopback: the intake (started as its systemd unit) behind
the real Caddy, and a second checkout standing for the author's laptop that runs
`invoke moderate --inbox URL` against the admin API and `invoke deploy` to Caddy's root."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from moderation import inbox
from tests.support.akismet_standin import AkismetStandIn
from tests.support.deploy import GoingLive, going_live, held_rsync
from tests.support.intake import INVOKE, free_port

TOKEN = "cGFwZXItY3JhbmVzLW9uLWEtd2luZG93c2lsbC1pbi1tYXJjaA"
POST = "texting-my-therapist"
POST_PATH = "/2016/03/texting-my-therapist/"
READER_EMAIL = "ottilie.reader@example.net"
READER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) OttilieBrowser/9.1"
WORDS = "Reading this on the night bus home, I felt less alone with my own waiting-room nerves."


@dataclass
class Live:
    """The server (intake + Caddy), the laptop's checkout, and the Akismet stand-in."""

    setup: GoingLive
    akismet: AkismetStandIn

    @property
    def url(self) -> str:
        return self.setup.url

    @property
    def laptop(self) -> Path:
        return self.setup.laptop

    @property
    def server(self) -> Path:
        return self.setup.server

    @property
    def www(self) -> Path:
        return self.setup.www

    def invoke(
        self, *task: str, token: str = TOKEN, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """A command typed on the laptop, with its environment for going live."""
        return self.setup.laptop_command(
            *task, akismet=self.akismet.environment(), token=token, **env
        )

    def moderate(self, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.invoke("moderate", "--no-input", "--inbox", self.url, *options, **env)

    def start_pausing_run(self, *options: str) -> subprocess.Popen[bytes]:
        """`invoke moderate --inbox URL` in the background, pausing 30 s after each comment
        file it writes (publishing's debugging hook), in its own process group."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BETWEEN_SESSIONS_", "PYTHON_AKISMET", "AKISMET"))
        }
        environment.update(
            {
                **self.akismet.environment(),
                "BETWEEN_SESSIONS_SITEURL": self.url,
                "BETWEEN_SESSIONS_ADMIN_TOKEN": TOKEN,
                "MODERATION_DEBUG_PAUSE_AFTER_WRITE": "30",
            }
        )
        return subprocess.Popen(
            [str(INVOKE), "moderate", "--no-input", "--inbox", self.url, *options],
            cwd=self.laptop,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def server_comment(self, comment_id: str) -> dict[str, object]:
        connection = inbox.connect(self.server / "var" / "inbox.sqlite3")
        try:
            return dict(inbox.get_comment(connection, comment_id))
        finally:
            connection.close()

    def post_comment(self) -> dict[str, str]:
        answer = httpx.post(
            self.url + "/api/comments",
            data={"post": POST, "author": "Ottilie", "email": READER_EMAIL, "comment": WORDS},
            headers={"Accept": "application/json", "User-Agent": READER_AGENT},
        )
        assert answer.status_code == 202, answer.text
        return answer.json()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with AkismetStandIn() as akismet, going_live(tmp_path, TOKEN) as setup:
        live = Live(setup, akismet)
        first = live.invoke("deploy")
        assert first.returncode == 0, first.stdout + first.stderr
        yield live


def test_a_comment_goes_live_and_comes_down_again(live: Live) -> None:
    posted = live.post_comment()
    moderated = live.moderate("--deploy")
    assert moderated.returncode == 0, moderated.stdout + moderated.stderr
    page = httpx.get(live.url + POST_PATH).text
    assert WORDS in page and "Ottilie" in page
    feeds = [path for path in live.www.rglob("*.xml") if WORDS in path.read_text(encoding="utf-8")]
    assert feeds, "the comment is in no feed"
    stored = live.server_comment(posted["id"])
    assert stored["status"] == "approved" and stored["published_at"] is not None
    assert stored["decided_by"] == "akismet"

    # The reader asks for her comment's removal; the next run and deploy take it down.
    removal = httpx.post(posted["removal_url"], headers={"Accept": "application/json"})
    assert removal.status_code == 202, removal.text
    again = live.moderate("--deploy")
    assert again.returncode == 0, again.stdout + again.stderr
    assert WORDS not in httpx.get(live.url + POST_PATH).text
    for feed_file in live.www.rglob("*.xml"):
        assert WORDS not in feed_file.read_text(encoding="utf-8"), feed_file
    assert live.server_comment(posted["id"])["status"] == "removed"

    # Nothing private reached the laptop's content/ or the live site, nor the token a log.
    for folder in (live.laptop / "content", live.www):
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                assert READER_EMAIL not in text and READER_AGENT not in text, path
    assert TOKEN not in live.setup.intake_log.read_text(encoding="utf-8")


def test_a_replayed_run_publishes_nothing_twice(live: Live) -> None:
    posted = live.post_comment()
    assert live.moderate("--no-build").returncode == 0
    files = sorted((live.laptop / "content/comments" / POST).glob("*.md"))
    log_before = live.invoke("moderate", "--log", "--inbox", live.url).stdout
    assert live.moderate("--no-build").returncode == 0
    assert sorted((live.laptop / "content/comments" / POST).glob("*.md")) == files
    assert live.invoke("moderate", "--log", "--inbox", live.url).stdout == log_before
    assert f"{posted['id']}.md" in {path.name for path in files}


def test_a_wrong_token_exits_2_before_anything_changes(live: Live) -> None:
    posted = live.post_comment()
    result = live.moderate(token="not-" + TOKEN)
    assert result.returncode == 2
    assert "refused the admin token" in result.stdout
    assert live.server_comment(posted["id"])["status"] == "pending"
    assert not (live.laptop / "content/comments" / POST / f"{posted['id']}.md").exists()
    assert live.akismet.calls("comment-check") == []


def test_an_unreachable_intake_exits_1_with_nothing_lost(live: Live) -> None:
    posted = live.post_comment()
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = live.invoke("moderate", "--no-input", "--no-build", "--inbox", nowhere)
    assert result.returncode == 1
    assert "could not be reached" in result.stdout
    assert live.server_comment(posted["id"])["status"] == "pending"
    assert live.moderate("--no-build").returncode == 0
    assert live.server_comment(posted["id"])["published_at"] is not None


def test_a_run_killed_mid_publish_is_finished_by_the_next(live: Live) -> None:
    posted = live.post_comment()
    run = live.start_pausing_run("--no-build")
    written = live.laptop / "content/comments" / POST / f"{posted['id']}.md"
    deadline = time.monotonic() + 120
    while not written.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert written.exists()
    text = written.read_text(encoding="utf-8")
    # Killed after the file was written and before the intake heard of it.
    assert live.server_comment(posted["id"])["published_at"] is None

    finished = live.moderate("--no-build")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert live.server_comment(posted["id"])["published_at"] is not None
    assert written.read_text(encoding="utf-8") == text
    connection = inbox.connect(live.server / "var" / "inbox.sqlite3")
    actions = [
        entry["action"]
        for entry in inbox.decision_log(connection)
        if entry["comment_id"] == posted["id"]
    ]
    connection.close()
    assert actions == ["approved", "published"]


@pytest.mark.browser
def test_a_reader_sees_her_comment_after_moderation_from_the_laptop(live: Live, browser) -> None:
    page = browser.new_page()
    try:
        page.goto(live.url + POST_PATH)
        page.fill("#commentform #author", "Ottilie")
        page.fill("#commentform #email", READER_EMAIL)
        page.fill("#commentform #comment", WORDS)
        page.click("#commentform button[type=submit]")
        page.wait_for_selector(".comment-received", timeout=30_000)
        assert "awaiting moderation" in page.inner_text(".comment-received")

        moderated = live.moderate("--deploy")
        assert moderated.returncode == 0, moderated.stdout + moderated.stderr

        page.reload()
        comments = page.inner_text("#comments")
        assert WORDS in comments and "Ottilie" in comments
    finally:
        page.close()


def test_a_post_just_deployed_takes_comments_at_once(live: Live) -> None:
    (live.laptop / "content" / "a-new-morning.md").write_text(
        "Title: A new morning\nDate: 2026-11-30 08:00\nCategory: Between\n"
        "Slug: a-new-morning\n\nWritten this week, after the long gap.\n",
        encoding="utf-8",
    )
    deployed = live.invoke("deploy")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    answer = httpx.post(
        live.url + "/api/comments",
        data={
            "post": "a-new-morning",
            "author": "Ottilie",
            "email": READER_EMAIL,
            "comment": "Glad to see you writing again.",
        },
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 202, answer.text


def test_a_second_run_on_the_laptop_waits_for_the_first(live: Live) -> None:
    """Issue 13: remote runs take the local runs' one-run lock (moderate.lock)."""
    posted = live.post_comment()
    # The first run holds still once its file is written.
    first = live.start_pausing_run()
    written = live.laptop / "content/comments" / POST / f"{posted['id']}.md"
    deadline = time.monotonic() + 120
    while not written.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written.exists()

    second = live.moderate()
    assert second.returncode == 3, second.stdout + second.stderr
    assert "Another `invoke moderate` is running" in second.stdout
    assert f"process {first.pid}" in second.stdout
    # The second did nothing: the intake still waits for the first to say "published".
    assert live.server_comment(posted["id"])["published_at"] is None

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    # The kernel let the lock go with the killed run: the next one finishes its job.
    finished = live.moderate()
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert live.server_comment(posted["id"])["published_at"] is not None


def test_a_second_run_waits_for_the_first_ones_deploy(live: Live, tmp_path: Path) -> None:
    """`--deploy` runs inside the one-run lock: a second run started while the first one's
    rsync runs does nothing, so never rebuilds the folder being sent."""
    live.post_comment()
    with held_rsync(tmp_path / "held") as rsync:
        environment = live.setup.laptop_environment(
            live.akismet.environment(), TOKEN, PATH=rsync.path
        )
        first = subprocess.Popen(
            [str(INVOKE), "moderate", "--no-input", "--inbox", live.url, "--deploy"],
            cwd=live.laptop,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            rsync.wait_until_started(first)
            second = live.moderate("--deploy")
            assert second.returncode == 3, second.stdout + second.stderr
            assert "Another `invoke moderate` is running" in second.stdout
            assert "publish:" not in second.stdout
            assert WORDS not in httpx.get(live.url + POST_PATH).text
        finally:
            rsync.open()
            output = first.communicate(timeout=600)[0]
    assert first.returncode == 0, output
    assert WORDS in httpx.get(live.url + POST_PATH).text
