"""The shipped deploy/ files, each run by the real program on loopback: Caddy and nginx in
front of the intake started with the systemd unit's own ExecStart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from moderation import inbox
from tests.support.deploy import (
    UNIT,
    checkout_with_venv,
    intake_from_unit,
    unit_for_checkout,
    unit_section,
    web_server,
)
from tests.support.intake import free_port

FORGED_ADDRESS = "203.0.113.77"


@pytest.fixture
def live_site(sample_site: Path, tmp_path: Path) -> Path:
    """The sample site as the web server's root, as `invoke deploy` leaves it."""
    root = tmp_path / "www"
    shutil.copytree(sample_site, root)
    return root


@pytest.mark.parametrize("server", ["caddy", "nginx"])
def test_a_comment_goes_through_the_web_server_into_the_inbox(
    server: str, live_site: Path, tmp_path: Path
) -> None:
    checkout = checkout_with_venv(tmp_path / "srv")
    environment = {"BETWEEN_SESSIONS_COMMENTS_JSON": str(live_site / "comments.json")}
    with (
        intake_from_unit(checkout, environment, tmp_path / "intake.log") as intake_port,
        web_server(server, live_site, intake_port, tmp_path / server) as url,
    ):
        home = httpx.get(url + "/")
        page = httpx.get(url + "/2016/03/texting-my-therapist/")
        answer = httpx.post(
            url + "/api/comments",
            data={
                "post": "texting-my-therapist",
                "author": "Linnea",
                "email": "linnea@example.net",
                "comment": "The part about the waiting room clock stayed with me all week.",
            },
            headers={"X-Forwarded-For": FORGED_ADDRESS},
        )
    assert home.status_code == 200 and "Between Sessions" in home.text
    assert page.status_code == 200 and 'action="/api/comments"' in page.text
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].endswith("/2016/03/texting-my-therapist/#comment-pending")
    connection = inbox.connect(checkout / "var" / "inbox.sqlite3")
    [stored] = inbox.comments_with_status(connection, inbox.Status.PENDING)
    connection.close()
    assert stored["author"] == "Linnea"
    # The proxy replaced the client's X-Forwarded-For with the address it saw.
    assert stored["ip"] == "127.0.0.1"


def test_the_unit_runs_the_intake_unprivileged_in_a_sandbox() -> None:
    service = unit_section(UNIT)
    single = {key: values[-1] for key, values in service.items()}
    home = single["WorkingDirectory"]
    assert single["User"] not in ("", "root", "0")
    assert single["ExecStart"].startswith(f"{home}/.venv/bin/invoke intake --production")
    assert service["ReadWritePaths"] == [f"{home}/var"]
    assert single["ProtectSystem"] == "strict"
    for option in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices"):
        assert single[option] == "true", option
    assert single["CapabilityBoundingSet"] == ""


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the options are checked by parsing")
    checkout = checkout_with_venv(tmp_path / "srv")
    unit = tmp_path / UNIT.name
    unit.write_text(unit_for_checkout(checkout), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "between-sessions-intake.service" not in result.stderr, result.stderr


@pytest.mark.parametrize("server", ["caddy", "nginx"])
def test_a_reader_is_told_when_the_intake_is_down(
    server: str, live_site: Path, tmp_path: Path
) -> None:
    with web_server(server, live_site, free_port(), tmp_path / server) as url:
        page = httpx.get(url + "/2016/03/texting-my-therapist/")
        answer = httpx.post(
            url + "/api/comments",
            data={"post": "texting-my-therapist", "author": "Ines", "comment": "Hello."},
            headers={"Accept": "application/json"},
        )
    assert page.status_code == 200
    assert answer.status_code == 503
    assert "down for a few minutes and nothing was saved" in answer.text
