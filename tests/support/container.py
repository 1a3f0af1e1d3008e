"""A Debian machine booted with systemd as its PID 1, for running the shipped unit for real.

`systemd-nspawn --boot` starts the machine's own systemd in a container on this host's
network (so its ports are this host's loopback ports) with a throwaway overlay over its
root: every test starts from the same clean Debian. The root itself is made beforehand,
outside the tests (it is downloaded from Debian), by `.ci/run`:

    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,python3-venv \\
        <this host's Debian release> /var/lib/machines/between-sessions-test

The machine's Python runs this test run's installed packages (bound read-only into it, so
nothing is downloaded during a test); the machine's python3 must therefore be the same
minor version as the Python running the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.deploy import require_tool
from tests.support.intake import stop
from tests.support.required import unavailable

ROOT = Path(
    os.environ.get("BETWEEN_SESSIONS_TEST_MACHINE", "/var/lib/machines/between-sessions-test")
)
# Where the machine sees this test run's site-packages.
HOST_PACKAGES = "/opt/host-site-packages"
# A clean environment for commands in the machine: nothing of this host's leaks in.
MACHINE_ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]


def require_machine() -> Path:
    """The machine's root, with systemd-nspawn to boot it; missing: skip loudly, or fail
    under CI."""
    require_tool("systemd-nspawn", "systemd-container")
    require_tool("nsenter", "util-linux")
    if not (ROOT / "usr/lib/systemd/systemd").exists():
        unavailable(
            "SYSTEMD TEST",
            f"no Debian root with systemd at {ROOT}: make it as .ci/run does (debootstrap)",
        )
    wanted = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if not (ROOT / "usr/bin" / wanted).exists():
        unavailable("SYSTEMD TEST", f"the machine at {ROOT} has no {wanted}, the tests' Python")
    return ROOT


@dataclass
class Machine:
    """A booted machine; `run` runs a command in it as root."""

    leader: int

    def run(
        self, command: Sequence[str], stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", f"--target={self.leader}", "--all", *MACHINE_ENV, *command],
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def shell(self, script: str) -> str:
        """Run a shell script in the machine (stopping at the first failure); its output."""
        result = self.run(["sh", "-ec", script], check=False)
        if result.returncode:
            raise AssertionError(
                f"in the machine, {script!r} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout


def _leader(nspawn: subprocess.Popen[str], deadline: float) -> int:
    """The host's PID of the machine's systemd: the child of systemd-nspawn that runs it
    (before that, the child is nspawn's own, setting the machine up)."""
    while time.monotonic() < deadline:
        if nspawn.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited with {nspawn.returncode}")
        for child in Path(f"/proc/{nspawn.pid}/task/{nspawn.pid}/children").read_text().split():
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    return int(child)
            except FileNotFoundError:
                continue
        time.sleep(0.05)
    raise TimeoutError("systemd-nspawn started no machine")


@contextmanager
def booted_machine(root: Path, binds: dict[Path, str], log: Path) -> Iterator[Machine]:
    """Boot the machine at `root` with `binds` (host folder -> where the machine sees it),
    until its systemd says it is up; power it off after."""
    packages = sysconfig.get_paths()["purelib"]
    command = [
        "systemd-nspawn",
        "--quiet",
        f"--directory={root}",
        # No systemd on this host to register with or to put the machine in a unit of its own.
        "--register=no",
        "--keep-unit",
        "--boot",
        # Changes go to a tmpfs over the root and vanish with the machine.
        "--volatile=overlay",
        "--console=read-only",
        f"--bind-ro={packages}:{HOST_PACKAGES}",
        *(f"--bind={host}:{inside}" for host, inside in binds.items()),
    ]
    with log.open("w", encoding="utf-8") as output:
        nspawn = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        machine = Machine(_leader(nspawn, deadline))
        # "running", or "degraded" if a unit this minimal Debian does not need failed;
        # until systemd listens, systemctl cannot ask it and says nothing.
        state = ""
        while state not in ("running", "degraded"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the machine did not come up ({state}):\n{log.read_text()}")
            time.sleep(0.2)
            answer = machine.run(["systemctl", "is-system-running", "--wait"], check=False)
            state = answer.stdout.strip()
        yield machine
    finally:
        # SIGTERM asks the machine's systemd to power off cleanly.
        stop(nspawn)
