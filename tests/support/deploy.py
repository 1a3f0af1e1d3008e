"""The shipped deploy/ files run for real on loopback: the intake started with the systemd
unit's own ExecStart, behind Caddy or nginx with the three address names filled in."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.intake import INVOKE, copy_project, free_port, stop, wait_for_port
from tests.support.required import unavailable

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT_ROOT / "deploy"
UNIT = DEPLOY / "between-sessions-intake.service"
WEB_SERVERS = {"caddy": "/usr/bin/caddy", "nginx": "/usr/sbin/nginx"}


def require_tool(path: str, package: str | None = None) -> str:
    """`path` if it is installed; missing: skip loudly, or fail under CI."""
    if shutil.which(path) is None:
        package = package or Path(path).name
        unavailable("DEPLOY TEST", f"{path} is missing: apt-get install -y {package}")
    return path


def unit_section(unit: Path, section: str = "Service") -> dict[str, list[str]]:
    """A systemd unit's section as {key: [values...]} (a key may repeat, as Environment= does)."""
    values: dict[str, list[str]] = {}
    current = None
    for raw in unit.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def unit_for_checkout(checkout: Path, unit: Path = UNIT) -> str:
    """The unit's text with its WorkingDirectory moved to `checkout` (a project copy)."""
    home = unit_section(unit)["WorkingDirectory"][0]
    return unit.read_text(encoding="utf-8").replace(home, str(checkout))


def checkout_with_venv(root: Path) -> Path:
    """A project copy at `root` whose .venv is this test run's environment."""
    root.mkdir(parents=True, exist_ok=True)
    copy_project(root)
    (root / ".venv").symlink_to(Path(sys.prefix))
    (root / "var").mkdir()
    return root


@contextmanager
def intake_from_unit(checkout: Path, environment: dict[str, str], log: Path) -> Iterator[int]:
    """The intake started as systemd would start the shipped unit in `checkout`: its
    ExecStart in its WorkingDirectory, with its Environment= lines under `environment`'s;
    its output goes to `log`. Yields the port it listens on."""
    unit = checkout / UNIT.name
    unit.write_text(unit_for_checkout(checkout), encoding="utf-8")
    service = unit_section(unit)
    unit_env = dict(line.split("=", 1) for line in service.get("Environment", []))
    port = free_port()
    env = {**os.environ, **unit_env, **environment, "INTAKE_PORT": str(port)}
    # systemd expands ${NAME} in ExecStart from the unit's environment.
    command = shlex.split(string.Template(service["ExecStart"][0]).substitute(env))
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            cwd=service["WorkingDirectory"][0],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    with listening(process, port, lambda: log.read_text(encoding="utf-8")):
        yield port


@contextmanager
def listening(process: subprocess.Popen, port: int, output: Callable[[], str]) -> Iterator[None]:
    """Once `process` listens on `port`, until it is stopped; `output()` says why it did not."""
    try:
        wait_for_port(port, alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError):
        process.kill()
        process.wait()
        raise RuntimeError(f"{process.args!r} did not start:\n{output()}") from None
    try:
        yield
    finally:
        stop(process)


@contextmanager
def web_server(
    name: str,
    site_root: Path,
    intake_port: int,
    work: Path,
    port: int | None = None,
    https: bool = False,
) -> Iterator[str]:
    """Caddy or nginx, run with the shipped config on `port` (a free loopback port by
    default); yields its URL. `https` (Caddy): as a live site, over HTTPS, with a
    certificate from Caddy's own local authority (`caddy_root_certificate`), since a
    loopback address gets none from Let's Encrypt."""
    binary = require_tool(WEB_SERVERS[name])
    port = port or free_port()
    work.mkdir(parents=True, exist_ok=True)
    names = {
        "SITE_ROOT": str(site_root),
        "INTAKE_PORT": str(intake_port),
    }
    scheme = "https" if https else "http"
    if name == "caddy":
        env = {
            **os.environ,
            **names,
            "SITE_ADDRESS": f"{scheme}://127.0.0.1:{port}",
            "CADDY_ADMIN": f"127.0.0.1:{free_port()}",
            "HOME": str(work),
            "XDG_DATA_HOME": str(work / "data"),
            "XDG_CONFIG_HOME": str(work / "config"),
        }
        command = [binary, "run", "--config", str(caddyfile(work)), "--adapter", "caddyfile"]
    else:
        env = {**os.environ, **names, "SITE_ADDRESS": f"127.0.0.1:{port}"}
        command = [binary, "-p", str(work), "-c", str(nginx_main_config(work, env))]
    # Into a file, not a pipe: a pipe nobody reads would stop the server once full.
    log = work / f"{name}.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    with listening(process, port, lambda: log.read_text(encoding="utf-8")):
        yield f"{scheme}://127.0.0.1:{port}"


def caddyfile(work: Path) -> Path:
    """The shipped Caddyfile with two global options a test adds for HTTPS on loopback:
    its local authority stays out of this machine's trust store (Caddy, as root, would add
    it), and no redirect server takes port 80."""
    shipped = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    admin_line = "\tadmin {$CADDY_ADMIN:localhost:2019}\n"
    assert admin_line in shipped, "the Caddyfile's global options moved"
    path = work / "Caddyfile"
    path.write_text(
        shipped.replace(
            admin_line, admin_line + "\tskip_install_trust\n\tauto_https disable_redirects\n"
        )
    )
    return path


def caddy_root_certificate(work: Path) -> Path:
    """The root certificate of the local authority Caddy made under `work` (its HTTPS
    certificate for a loopback address is signed by it): what a client must trust."""
    return work / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"


def nginx_main_config(work: Path, env: dict[str, str]) -> Path:
    """A main nginx.conf for an unprivileged nginx in `work`, including the shipped server
    block made with envsubst as the README says."""
    require_tool("/usr/bin/envsubst")
    server_block = work / "between-sessions.conf"
    server_block.write_text(
        subprocess.run(
            ["envsubst", "${SITE_ADDRESS} ${SITE_ROOT} ${INTAKE_PORT}"],
            input=(DEPLOY / "nginx.conf").read_text(encoding="utf-8"),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout,
        encoding="utf-8",
    )
    temp = {name: work / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = work / "nginx.conf"
    main.write_text(
        "\n".join(
            [
                "daemon off;",
                "master_process off;",
                f"user {getpass.getuser()};",
                f"pid {work / 'nginx.pid'};",
                "error_log stderr;",
                "events { worker_connections 64; }",
                "http {",
                "  include /etc/nginx/mime.types;",
                *(f"  {kind}_temp_path {path};" for kind, path in temp.items()),
                f"  include {server_block};",
                "}",
            ]
        ),
        encoding="utf-8",
    )
    return main


@dataclass(frozen=True)
class GoingLive:
    """The README's "Going live" on loopback: the server's checkout with the intake
    running as its unit, Caddy serving `www`, and a laptop's checkout."""

    url: str
    server: Path
    www: Path
    laptop: Path
    intake_log: Path

    def laptop_command(
        self, *task: str, akismet: Mapping[str, str], token: str, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`invoke TASK` typed on the laptop, with its environment for going live (see
        `laptop_environment`)."""
        return subprocess.run(
            [str(INVOKE), *task],
            cwd=self.laptop,
            env=self.laptop_environment(akismet, token, **env),
            capture_output=True,
            text=True,
            timeout=600,
        )

    def laptop_environment(
        self, akismet: Mapping[str, str], token: str, **env: str
    ) -> dict[str, str]:
        """The laptop's environment for going live: the site's address, `www` as the deploy
        target, the admin token, and `akismet` (the stand-in's environment) instead of any
        Akismet or intake settings of this machine; `env` on top."""
        clean = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("BETWEEN_SESSIONS_", "PYTHON_AKISMET", "AKISMET", "COMMENT_INTAKE")
            )
        }
        environment = {
            **clean,
            **akismet,
            "BETWEEN_SESSIONS_SITEURL": self.url,
            "BETWEEN_SESSIONS_DEPLOY_TARGET": str(self.www),
            "BETWEEN_SESSIONS_ADMIN_TOKEN": token,
            **env,
        }
        return environment


@dataclass(frozen=True)
class HeldRsync:
    """The real rsync behind a gate: started, it waits until the test opens the gate, so
    a deploy can be caught midway. `path` goes first on a command's PATH."""

    path: str
    started: Path
    gate: Path

    def wait_until_started(self, process: subprocess.Popen[str]) -> None:
        """Until `process` has reached its rsync (it fails if it ended first)."""
        deadline = time.monotonic() + 300
        while not self.started.exists():
            if process.poll() is not None:
                raise AssertionError(f"ended before its rsync:\n{process.communicate()}")
            if time.monotonic() > deadline:
                raise TimeoutError("rsync was not started within 300 s")
            time.sleep(0.05)

    def open(self) -> None:
        self.gate.touch()


@contextmanager
def held_rsync(work: Path) -> Iterator[HeldRsync]:
    """A gate in front of the real rsync (see HeldRsync), opened at the end whatever happens."""
    real = require_tool("/usr/bin/rsync")
    work.mkdir(parents=True, exist_ok=True)
    held = HeldRsync(f"{work}:{os.environ['PATH']}", work / "started", work / "gate")
    script = work / "rsync"
    script.write_text(
        f"#!/bin/sh\ntouch {shlex.quote(str(held.started))}\n"
        f"while [ ! -e {shlex.quote(str(held.gate))} ]; do sleep 0.05; done\n"
        f'exec {real} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    try:
        yield held
    finally:
        held.open()


@contextmanager
def going_live(
    root: Path,
    admin_token: str,
    server_environment: Mapping[str, str] | None = None,
    https: bool = False,
) -> Iterator[GoingLive]:
    """Everything in `root`: the intake (admin API on with `admin_token`, and
    `server_environment`, mail settings say) behind Caddy (over HTTPS with `https`: see
    `web_server`), reading the live site's comments.json, and a fresh laptop checkout
    (nothing deployed)."""
    server = checkout_with_venv(root / "srv")
    www = root / "www"
    laptop = root / "laptop"
    www.mkdir()
    laptop.mkdir()
    copy_project(laptop)
    with (laptop / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        # These tests follow one comment through the loop; a first comment held for the
        # author (HOLD_FIRST_COMMENT) is tested on its own.
        settings.write('\nMODERATION = {**MODERATION, "HOLD_FIRST_COMMENT": False}\n')
    # The server knows its public address from configuration, as a live one does from
    # publishconf.py: the intake builds readers' links from it, never from a request.
    web_port = free_port()
    environment = {
        "BETWEEN_SESSIONS_ADMIN_TOKEN": admin_token,
        "BETWEEN_SESSIONS_COMMENTS_JSON": str(www / "comments.json"),
        "BETWEEN_SESSIONS_SITEURL": f"{'https' if https else 'http'}://127.0.0.1:{web_port}",
        **(server_environment or {}),
    }
    log = root / "intake.log"
    with (
        intake_from_unit(server, environment, log) as intake_port,
        web_server("caddy", www, intake_port, root / "caddy", web_port, https) as url,
    ):
        yield GoingLive(url, server, www, laptop, log)


@dataclass(frozen=True)
class SshServer:
    """A real sshd on loopback that lets this user in with one key: what `invoke deploy`
    needs to reach a server, as `RSYNC_RSH` (rsync's own variable) tells rsync to."""

    port: int
    rsync_rsh: str

    def target(self, folder: Path) -> str:
        return f"{getpass.getuser()}@127.0.0.1:{folder}"


@contextmanager
def ssh_server(work: Path) -> Iterator[SshServer]:
    """sshd on a free loopback port, with its own host key, config and authorized key."""
    sshd = require_tool("/usr/sbin/sshd", package="openssh-server")
    work.mkdir(parents=True, exist_ok=True)
    for key in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key)], check=True
        )
    shutil.copy(work / "client_key.pub", work / "authorized_keys")
    port = free_port()
    config = work / "sshd_config"
    config.write_text(
        f"""ListenAddress 127.0.0.1
Port {port}
HostKey {work / "host_key"}
AuthorizedKeysFile {work / "authorized_keys"}
PidFile {work / "sshd.pid"}
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
""",
        encoding="utf-8",
    )
    # sshd refuses to start without its privilege separation folder (Debian makes it at boot).
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = work / "sshd.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=sink)
    rsync_rsh = shlex.join(
        [
            "ssh",
            "-p",
            str(port),
            "-i",
            str(work / "client_key"),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={work / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=accept-new",
        ]
    )
    with listening(process, port, lambda: log.read_text(errors="replace")):
        yield SshServer(port, rsync_rsh)
