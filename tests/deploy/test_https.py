"""Going live over HTTPS, as a real blog is: Caddy serving the site and the intake with a
certificate (here from its own local authority, since a loopback address gets none from
Let's Encrypt), a reader posting over TLS, and the laptop's `invoke moderate --inbox
https://...` sending its token only over TLS, then `invoke deploy`."""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.akismet_standin import AkismetStandIn
from tests.support.deploy import GoingLive, caddy_root_certificate, going_live

TOKEN = "c2FsdC1sYW1wcy1pbi1hLXF1aWV0LWhhcmJvdXItdG93bi1hdC1kdXNr"
POST_PATH = "/2016/03/texting-my-therapist/"
WORDS = "I printed this one out and kept it in my coat pocket for the week of the move."


def laptop_command(
    setup: GoingLive, akismet: AkismetStandIn, *task: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return setup.laptop_command(*task, akismet=akismet.environment(), token=TOKEN, **env)


def trusting(root: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=root)


def wait_for_certificate(url: str, root: Path) -> None:
    """Caddy listens before its first certificate is issued; wait until TLS answers."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", verify=trusting(root))
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_loop_runs_over_https(tmp_path: Path) -> None:
    with AkismetStandIn() as akismet, going_live(tmp_path, TOKEN, https=True) as setup:
        assert setup.url.startswith("https://")
        root = caddy_root_certificate(tmp_path / "caddy")
        wait_for_certificate(setup.url, root)
        trusted = {"SSL_CERT_FILE": str(root)}
        first = laptop_command(setup, akismet, "deploy", **trusted)
        assert first.returncode == 0, first.stdout + first.stderr

        posted = httpx.post(
            setup.url + "/api/comments",
            data={
                "post": "texting-my-therapist",
                "author": "Brannagh",
                "email": "b@example.net",
                "comment": WORDS,
            },
            headers={"Accept": "application/json"},
            verify=trusting(root),
        )
        assert posted.status_code == 202, posted.text
        # The removal link is the live site's own https address.
        assert posted.json()["removal_url"].startswith(setup.url + "/api/")

        # A laptop that does not trust the server's certificate sends it nothing: not the
        # token, not a decision. It says why, and the comment waits where it was.
        untrusted = laptop_command(setup, akismet, "moderate", "--no-input", "--inbox", setup.url)
        assert untrusted.returncode == 1
        assert "could not be reached" in untrusted.stdout
        assert akismet.calls("comment-check") == []

        moderated = laptop_command(
            setup, akismet, "moderate", "--no-input", "--deploy", "--inbox", setup.url, **trusted
        )
        assert moderated.returncode == 0, moderated.stdout + moderated.stderr
        page = httpx.get(setup.url + POST_PATH, verify=trusting(root)).text
        assert WORDS in page
