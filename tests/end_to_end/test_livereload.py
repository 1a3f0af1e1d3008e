"""`invoke livereload`: the site reloads as she writes, and its comment form still posts
(the intake is served with the site, as `invoke serve` does)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess

import httpx

from tests.support.intake import INVOKE, copy_project, free_port, valid_comment, wait_for_port

POST_URL = "/2016/03/texting-my-therapist/"


def test_livereload_serves_the_intake_and_the_reload_script(tmp_path) -> None:
    root = copy_project(tmp_path)
    port, reload_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key != "COMMENT_INTAKE_INBOX"}
    server = subprocess.Popen(
        [str(INVOKE), "livereload", "--port", str(port), "--reload-port", str(reload_port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, timeout=180, alive=lambda: server.poll() is None)
        wait_for_port(reload_port, timeout=60, alive=lambda: server.poll() is None)
        site = f"http://127.0.0.1:{port}"
        page = httpx.get(site + POST_URL)
        assert page.status_code == 200
        assert f"127.0.0.1:{reload_port}/livereload.js" in page.text
        assert httpx.get(f"http://127.0.0.1:{reload_port}/livereload.js").status_code == 200

        posted = httpx.post(
            site + "/api/comments",
            data=valid_comment(post="texting-my-therapist", comment="Posted while she writes."),
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == POST_URL + "#comment-pending"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output = server.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert server.returncode is not None, output
    with sqlite3.connect(root / "var" / "inbox.sqlite3") as connection:
        rows = connection.execute(
            "SELECT status FROM comments WHERE body = ?", ("Posted while she writes.",)
        ).fetchall()
    assert rows == [("pending",)]
