"""deploy/between-sessions-intake.service under a real systemd, as "Going live" installs it.

A Debian machine booted with systemd as its PID 1 (tests/support/container.py) gets the
project at /srv/between-sessions, the site at /var/www/between-sessions, the unprivileged
user, the token file and the shipped unit with only its port changed; then `systemctl
enable --now`. What a reader and the author rely on is checked from outside (a comment
and the admin API through the unit's port), and the sandbox from inside the running
service: what it may write, whom it runs as, what systemd itself says of its exposure.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from threaded_comments import PostEntry, write_comments_json

from tests.support.container import HOST_PACKAGES, Machine, booted_machine, require_machine
from tests.support.deploy import UNIT
from tests.support.intake import copy_project, free_port, wait_for_port

TOKEN = "c3lzdGVtZC1ydW5zLXRoZS1pbnRha2UtaW4tYS1tYWNoaW5lLW9mLWl0cy1vd24"
SERVICE = UNIT.stem
HOME = "/srv/between-sessions"


@dataclass
class Server:
    machine: Machine
    port: int
    checkout: Path

    def main_pid(self) -> int:
        pid = self.machine.run(["systemctl", "show", "--property=MainPID", "--value", SERVICE])
        return int(pid.stdout)

    def as_the_service(self, script: str) -> str:
        """Run `script` as the service's user, in the service's own mount namespace: what
        the intake itself may see and write."""
        return self.machine.shell(
            f"pid=$(systemctl show --property=MainPID --value {SERVICE}); "
            f'nsenter --target="$pid" --mount --setuid="$(id -u between-sessions)" '
            f'--setgid="$(id -g between-sessions)" sh -c {shlex.quote(script)}'
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = require_machine()
    work = tmp_path_factory.mktemp("systemd")
    checkout = work / "checkout"
    checkout.mkdir()
    copy_project(checkout)
    shutil.copytree(UNIT.parents[1] / "moderation", checkout / "moderation")
    (checkout / "var").mkdir()
    site = work / "site"
    site.mkdir()
    write_comments_json(
        site / "comments.json",
        [PostEntry("a-quiet-week", "/a-quiet-week/", "A quiet week", True, "", (), {})],
    )
    port = free_port()
    unit = UNIT.read_text(encoding="utf-8").replace("INTAKE_PORT=8001", f"INTAKE_PORT={port}")
    assert f"INTAKE_PORT={port}" in unit, "the unit no longer sets INTAKE_PORT=8001"
    binds = {checkout: HOME, site: "/var/www/between-sessions"}
    with booted_machine(root, binds, work / "machine.log") as machine:
        # Step 2 of "Going live", but for pip: the machine's python3 makes the venv, and
        # a .pth file in it stands for `pip install -e .`: this run's packages are bound
        # in read-only, so nothing is downloaded.
        machine.shell(f"""
            useradd --system --user-group --home-dir {HOME} --shell /usr/sbin/nologin \\
                between-sessions
            python3 -m venv --without-pip {HOME}/.venv
            install -d -o between-sessions -g between-sessions -m 700 {HOME}/var
        """)
        venv = checkout / ".venv"
        (
            venv
            / f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
            / "between-sessions.pth"
        ).write_text(f"{HOST_PACKAGES}\n{HOME}\n{HOME}/plugins\n")
        invoke = venv / "bin" / "invoke"
        invoke.write_text(
            f"#!{HOME}/.venv/bin/python\n"
            "import sys\nfrom invoke.main import program\nsys.exit(program.run())\n"
        )
        invoke.chmod(0o755)
        # Steps 3 and 4: the token file, then the shipped unit (on standard input).
        machine.run(
            [
                "sh",
                "-ec",
                f"""
            install -d -m 755 /etc/between-sessions
            install -m 600 /dev/null /etc/between-sessions/intake.env
            printf '%s\\n' BETWEEN_SESSIONS_ADMIN_TOKEN={TOKEN} \
                BETWEEN_SESSIONS_SITEURL=https://blog.example.org \
                > /etc/between-sessions/intake.env
            cat > /etc/systemd/system/{UNIT.name}
            systemctl daemon-reload
            systemctl enable --now {SERVICE}
        """,
            ],
            stdin=unit,
        )
        wait_for_port(port, timeout=60)
        yield Server(machine, port, checkout)


def test_the_unit_runs_the_intake_for_readers_and_the_author(server: Server) -> None:
    assert server.machine.run(["systemctl", "is-active", SERVICE]).stdout.strip() == "active"
    base = f"http://127.0.0.1:{server.port}"
    answer = httpx.post(
        f"{base}/api/comments",
        data={
            "post": "a-quiet-week",
            "author": "Wren",
            "email": "wren@example.net",
            "comment": "Reading this on the bus home helped.",
        },
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    # The admin API exists because the unit read the token from its EnvironmentFile.
    assert httpx.get(f"{base}/api/admin/inbox").status_code == 401
    inbox = httpx.get(f"{base}/api/admin/inbox", headers={"Authorization": f"Bearer {TOKEN}"})
    assert inbox.status_code == 200
    assert [c["body"] for c in inbox.json()["comments"]] == ["Reading this on the bus home helped."]
    # Kept in var/ only, readable by the service's user alone (UMask=0077).
    listing = server.machine.shell(f"stat -c '%U %a %n' {HOME}/var/inbox.sqlite3")
    assert listing.split()[:2] == ["between-sessions", "600"]


def test_the_intake_runs_unprivileged_and_can_write_only_its_inbox(server: Server) -> None:
    status = server.machine.shell(f"cat /proc/{server.main_pid()}/status")
    fields = dict(re.findall(r"^(\w+):\s+(\S+)", status, re.MULTILINE))
    assert fields["Uid"] == server.machine.shell("id -u between-sessions").strip()
    assert fields["CapBnd"] == "0000000000000000"
    assert fields["NoNewPrivs"] == "1"
    assert fields["Seccomp"] == "2"  # SystemCallFilter= is in force

    # The reasons, not just refusals: a read-only mount (ProtectSystem=strict, with
    # ReadWritePaths= for var/) and an emptied, inaccessible /root (ProtectHome=), which
    # the user's own lack of permission would not tell apart.
    seen = server.as_the_service(
        f"""
        touch {HOME}/var/probe && echo var: written
        touch {HOME}/content/probe 2>&1 | grep -o 'Read-only file system' || true
        touch /etc/probe 2>&1 | grep -o 'Read-only file system' || true
        stat -c '%a' /root
        touch /tmp/probe && echo tmp: written
        """
    )
    assert seen.split("\n")[:-1] == [
        "var: written",
        "Read-only file system",
        "Read-only file system",
        "0",
        "tmp: written",
    ]
    # PrivateTmp: the service's /tmp is its own.
    assert server.machine.run(["test", "-e", "/tmp/probe"], check=False).returncode != 0
    assert not (server.checkout / "content" / "probe").exists()
    exposure = server.machine.shell(f"systemd-analyze security --no-pager {SERVICE} | tail -1")
    score = float(re.search(r"level for \S+: ([0-9.]+)", exposure).group(1))
    assert score <= 2.0, exposure  # systemd calls up to 2.9 "OK"; the unit is well under


def test_systemd_starts_the_intake_again_when_it_dies(server: Server) -> None:
    killed = server.main_pid()
    server.machine.run(["sh", "-c", f"kill -KILL {killed}"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.main_pid()
        if now not in (0, killed):
            break
        time.sleep(0.2)
    else:
        pytest.fail("systemd did not start the intake again (Restart=on-failure)")
    wait_for_port(server.port, timeout=60)
    assert (
        httpx.get(f"http://127.0.0.1:{server.port}/api/likes?post=a-quiet-week").status_code == 200
    )
