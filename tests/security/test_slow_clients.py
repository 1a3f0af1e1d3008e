"""Threat: clients that hold the intake's connections open by sending slowly (slowloris),
or go away in the middle of a body (issue 12, items 11 and 12). Against the real server
as `invoke intake` starts it (`python -m moderation.intake.server --intake-only`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.intake import free_port, intake_settings_for, stop, wait_for_port

SECONDS = 1.0
# Whole headers, then 9 of the 200 bytes of body they announce.
HALF_A_BODY = (
    b"POST /api/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"post": '
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The intake, with 1-second header and body timeouts; yields (port, its log file)."""
    settings = intake_settings_for(tmp_path, header_timeout=SECONDS, body_timeout=SECONDS)
    port = free_port()
    log = tmp_path / "intake.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "moderation.intake.server", "--intake-only"),
                *("--settings", str(settings.settings_file), "--port", str(port)),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, alive=lambda: process.poll() is None)
            yield port, log
        finally:
            stop(process)


def connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.settimeout(10)
    return connection


def closed_by_server(connection: socket.socket) -> bool:
    """True if the server closed the connection (reads end), False if it is still open."""
    try:
        return connection.recv(4096) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_connections_sending_partial_headers_are_closed(server):
    port, log = server
    slow = [connect(port) for _ in range(50)]
    for connection in slow:
        connection.sendall(b"POST /api/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    time.sleep(SECONDS * 3)
    try:
        assert all(closed_by_server(connection) for connection in slow)
    finally:
        for connection in slow:
            connection.close()
    assert "did not arrive in time" in log.read_text()
    assert "127.0.0.1" not in log.read_text().replace(f"127.0.0.1:{port}", "")


def test_a_body_that_arrives_too_slowly_gets_408(server):
    port, _ = server
    with connect(port) as connection:
        connection.sendall(HALF_A_BODY)
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_client_gone_mid_body_is_one_info_line_without_a_traceback(server):
    port, log = server
    with connect(port) as connection:
        connection.sendall(HALF_A_BODY)
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while "went away" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert [line for line in text.splitlines() if "went away" in line] == [
        "INFO moderation.intake.app: intake: a client went away mid-request on /api/comments"
    ]
    assert "Traceback" not in text
    assert "ERROR" not in text
