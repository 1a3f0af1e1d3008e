"""Threat: behind a reverse proxy that passes on a client's own X-Forwarded-For, one
machine poses as many readers and walks past every per-address limit (issue 12, item 13).
The README's proxy settings are run here with the real Caddy and nginx in front of the
intake, on loopback: the address the inbox keeps is the one the proxy saw, never the one
the client claimed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.intake import free_port, running_intake, stop, valid_comment, wait_for_port
from tests.support.required import unavailable

CLAIMED = "203.0.113.99"


def server_binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        unavailable("PROXY TEST", f"{name} is missing: apt-get install -y {name}")
    return found


@contextmanager
def proxy(command: list[str], port: int, folder: Path) -> Iterator[str]:
    log = (folder / "proxy.log").open("w")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder)},
    )
    try:
        wait_for_port(port, alive=lambda: process.poll() is None)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@contextmanager
def caddy(folder: Path, upstream: int) -> Iterator[str]:
    port = free_port()
    config = folder / "Caddyfile"
    # As the README says: Caddy's reverse_proxy, with no trusted_proxies, sets the header
    # to the address it sees.
    config.write_text(
        "{\n admin off\n auto_https off\n storage file_system " + str(folder) + "\n}\n"
        f"http://127.0.0.1:{port} {{\n reverse_proxy /api/* 127.0.0.1:{upstream}\n}}\n"
    )
    command = [server_binary("caddy"), "run", "--config", str(config), "--adapter", "caddyfile"]
    with proxy(command, port, folder) as url:
        yield url


@contextmanager
def nginx(folder: Path, upstream: int) -> Iterator[str]:
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(
        f"daemon off; master_process off; pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {folder}; proxy_temp_path {folder};\n"
        f" server {{ listen 127.0.0.1:{port};\n"
        f"  location /api/ {{ proxy_pass http://127.0.0.1:{upstream};\n"
        # As the README says: overwrite, never $proxy_add_x_forwarded_for (which appends).
        "   proxy_set_header X-Forwarded-For $remote_addr; } } }\n"
    )
    command = [server_binary("nginx"), "-c", str(config), "-p", str(folder)]
    with proxy(command, port, folder) as url:
        yield url


@pytest.mark.parametrize("front", [caddy, nginx], ids=["caddy", "nginx"])
def test_the_readme_proxy_settings_overwrite_a_claimed_address(tmp_path, front):
    with running_intake(tmp_path, comment_rate_limit=(2, 600)) as intake_url:
        upstream = int(intake_url.rsplit(":", 1)[1])
        (tmp_path / "proxy").mkdir()
        with front(tmp_path / "proxy", upstream) as url:
            answers = [
                httpx.post(
                    f"{url}/api/comments",
                    json=valid_comment(comment=f"Posing as reader {n}."),
                    headers={"X-Forwarded-For": f"{CLAIMED[:-2]}{n}"},
                    timeout=30,
                ).status_code
                for n in range(10, 14)
            ]

    # One machine is one reader, whatever it claims: the limit of two holds.
    assert answers == [202, 202, 429, 429]
    with sqlite3.connect(tmp_path / "var" / "inbox.sqlite3") as connection:
        addresses = {row[0] for row in connection.execute("SELECT ip FROM comments")}
    assert addresses == {"127.0.0.1"}
