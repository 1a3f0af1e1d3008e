"""Helpers for the intake tests: a small comments.json, and real uvicorn servers on free ports."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import uvicorn
from starlette.applications import Starlette

from moderation.intake.app import create_app
from moderation.settings import ProjectSettings, load_settings

T = TypeVar("T")

OPEN_POST = "texting-my-therapist"
OPEN_URL = "/2016/03/texting-my-therapist/"
CLOSED_POST = "an-old-closed-post"

TARGETS = {
    "posts": {
        OPEN_POST: {
            "url": OPEN_URL,
            "title": "Texting my therapist",
            "open": True,
            "modified": "2016-03-14T09:00:00+00:00",
            "comments": ["c001", "c002"],
            "likes": {"c001": 2},
        },
        CLOSED_POST: {
            "url": "/2015/01/an-old-closed-post/",
            "title": "An old closed post",
            "open": False,
            "modified": "2015-01-05T09:00:00+00:00",
            "comments": ["c100"],
            "likes": {},
        },
    }
}


def valid_comment(**changes: str) -> dict[str, str]:
    """A comment form that the intake accepts, with `changes` applied."""
    fields = {
        "post": OPEN_POST,
        "replyto": "",
        "author": "Wren",
        "email": "wren@example.org",
        "website": "",
        "comment": "I read this on the bus and had to put my phone down for a while.",
        "subject": "",
    }
    fields.update(changes)
    return fields


def write_targets(output: Path, targets: dict = TARGETS) -> Path:
    """Write a comments.json into `output`; returns its path."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / "comments.json"
    path.write_text(json.dumps(targets), encoding="utf-8")
    return path


def intake_settings_for(folder: Path, **changes: object) -> ProjectSettings:
    """The settings of a project in `folder` whose site is built (a small comments.json):
    a pelicanconf.py with `changes` as its COMMENT_INTAKE keys (lower-case names), read by
    the settings loader as `invoke serve` reads the real one."""
    write_targets(folder / "output")
    options = {name.upper(): value for name, value in changes.items()}
    if "INBOX_PATH" in options:
        options["INBOX_PATH"] = str(options["INBOX_PATH"])
    settings_file = folder / "pelicanconf.py"
    settings_file.write_text(f"COMMENT_INTAKE = {options!r}\n", encoding="utf-8")
    return load_settings(settings_file, environ={})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, ask: signal.Signals = signal.SIGTERM) -> None:
    """Ask `process` to end (`ask`: SIGINT as Ctrl-C would, for `invoke serve`), and kill it
    if it has not ended within 30 s."""
    process.send_signal(ask)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_port(port: int, timeout: float = 60, alive: object = None) -> None:
    """Wait until something listens on 127.0.0.1:`port` (`alive()` False aborts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            raise RuntimeError("the server exited before it listened")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def running(app: Starlette, port: int | None = None) -> Iterator[str]:
    """Serve `app` with a real uvicorn on loopback (`port`, or a free one), in a thread;
    yields its URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port, alive=thread.is_alive)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def running_intake(folder: Path, **changes: object) -> Iterator[str]:
    """An intake alone, its inbox and targets in `folder`; yields its URL. It knows the
    port it is served on, as `invoke serve` does: links and origins come from there."""
    port = free_port()
    with running(create_app(intake_settings_for(folder, **changes), port), port) as url:
        yield url


PROJECT_ROOT = Path(__file__).resolve().parents[2]
INVOKE = Path(sys.executable).parent / "invoke"


def copy_project(root: Path) -> Path:
    """A working copy of the project (settings, tasks, content, theme, plugins) at `root`."""
    for name in ("tasks.py", "pelicanconf.py", "publishconf.py"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for name in ("content", "theme", "plugins"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    return root


@contextmanager
def invoke_serve(
    root: Path, env: dict[str, str], timeout: float = 300, port: int | None = None
) -> Iterator[str]:
    """`invoke serve` on `port` (a free one by default) in the project copy at `root`;
    yields the site's URL."""
    port = port or free_port()
    server = subprocess.Popen(
        [str(INVOKE), "serve", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        wait_for_port(port, timeout=timeout, alive=lambda: server.poll() is None)
    except (RuntimeError, TimeoutError):
        server.kill()
        raise RuntimeError(f"invoke serve did not start:\n{server.communicate()[0]}") from None
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server, signal.SIGINT)


def run_async(coroutine: Coroutine[object, object, T]) -> T:
    """asyncio.run in a thread of its own: the session's Playwright may hold this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def post_asking_for_replies(page, post_url: str, who: tuple[str, str], text: str) -> None:
    """On `page` (a browser without JavaScript), a reader posts a top-level comment on the
    post at `post_url` with the reply-mail box ticked (it starts unticked), and lands on
    the receipt."""
    page.goto(post_url)
    form = page.locator("#commentform")
    form.locator("input[name=author]").fill(who[0])
    form.locator("input[name=email]").fill(who[1])
    form.locator("textarea[name=comment]").fill(text)
    box = form.get_by_label("Email me when someone replies to my comment")
    assert not box.is_checked()
    box.check()
    form.get_by_role("button", name="Post Comment").click()
    page.wait_for_url("**/api/comments/receipt?**")
