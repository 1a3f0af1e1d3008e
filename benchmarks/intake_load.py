"""Load test of the comment intake on loopback: 50 concurrent clients, 10,000 comment posts.

Starts the real server (`python -m moderation.intake.server --intake-only`, uvicorn) on a free port
in a tmp project folder, posts comments as JSON over keep-alive connections, prints
accepted posts per second and p50/p99 latency, then checks that every accepted comment is
in the inbox exactly once.

    .venv/bin/python benchmarks/intake_load.py [--clients 50] [--posts 10000]
        [--synchronous FULL|NORMAL|OFF] [--max-batch 256] [--rate-limited]

The client speaks HTTP/1.1 over asyncio streams itself: a full HTTP client library costs
more CPU per request than the server under test, and both share this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POST = "texting-my-therapist"
TARGETS = {
    "posts": {
        POST: {
            "url": "/2016/03/texting-my-therapist/",
            "title": "Texting my therapist",
            "open": True,
            "modified": "2016-03-14T09:00:00+00:00",
            "comments": ["c001"],
            "likes": {},
        }
    }
}


def settings_file(
    folder: Path, synchronous: str, max_batch: int, posts: int, counted: bool
) -> Path:
    (folder / "output").mkdir()
    (folder / "output" / "comments.json").write_text(json.dumps(TARGETS))
    path = folder / "pelicanconf.py"
    path.write_text(
        "COMMENT_INTAKE = {\n"
        # All the posts come from one address: a limit they never reach still counts each
        # one and keeps it in the inbox, which is what --rate-limited measures.
        f"    'COMMENT_RATE_LIMIT': {(2 * posts, 600) if counted else None},\n"
        # The waiting cap is checked on every post; its count errs on the side of refusing
        # (see moderation.intake.guards), so leave it room to refuse none.
        f"    'MAX_WAITING': {2 * posts},\n"
        f"    'SYNCHRONOUS': {synchronous!r},\n"
        f"    'MAX_BATCH': {max_batch},\n"
        "}\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited before it listened")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): steady however busy the
    machine is, unlike wall-clock rates."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_bytes(port: int, number: int) -> bytes:
    body = json.dumps(
        {
            "post": POST,
            "author": "Load Reader",
            "email": "reader@example.org",
            "comment": f"Comment {number}: what I wanted to say after the session.",
        }
    ).encode()
    head = (
        f"POST /api/comments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"User-Agent: intake-load/1.0\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    return status, await reader.readexactly(length)


async def client(
    port: int, numbers: asyncio.Queue, latencies: list[float], accepted: dict[int, str]
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failures = 0
    while True:
        try:
            number = numbers.get_nowait()
        except asyncio.QueueEmpty:
            break
        started = time.perf_counter()
        writer.write(request_bytes(port, number))
        status, body = await read_response(reader)
        latencies.append(time.perf_counter() - started)
        if status == 202:
            accepted[number] = json.loads(body)["id"]
        else:
            failures += 1
    writer.close()
    return failures


async def load(port: int, clients: int, posts: int) -> tuple[float, list[float], dict, int]:
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for number in range(posts):
        numbers.put_nowait(number)
    latencies: list[float] = []
    accepted: dict[int, str] = {}
    started = time.perf_counter()
    failures = await asyncio.gather(
        *(client(port, numbers, latencies, accepted) for _ in range(clients))
    )
    return time.perf_counter() - started, latencies, accepted, sum(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument(
        "--rate-limited",
        action="store_true",
        help="count every post against a per-address limit it never reaches",
    )
    arguments = parser.parse_args()
    # Other work on the machine slows the wall-clock rate, not the CPU per post.
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as folder:
        settings = settings_file(
            Path(folder),
            arguments.synchronous,
            arguments.max_batch,
            arguments.posts,
            arguments.rate_limited,
        )
        port = free_port()
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "moderation.intake.server", "--intake-only"),
                *("--settings", str(settings), "--port", str(port)),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_for(port, server)
            cpu_before = cpu_seconds(server.pid)
            elapsed, latencies, accepted, failures = asyncio.run(
                load(port, arguments.clients, arguments.posts)
            )
            server_cpu = cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=60)

        with sqlite3.connect(Path(folder) / "var" / "inbox.sqlite3") as connection:
            stored = dict(connection.execute("SELECT id, body FROM comments").fetchall())

    latencies.sort()
    rate = len(accepted) / elapsed
    missing = [n for n, comment_id in accepted.items() if comment_id not in stored]
    print(
        f"intake load: {arguments.clients} clients, {arguments.posts} posts, "
        f"synchronous={arguments.synchronous}, max batch {arguments.max_batch}"
    )
    print(f"  load before     {load_before:.2f} on {os.cpu_count()} cores")
    print(f"  accepted        {len(accepted)} ({failures} refused) in {elapsed:.2f} s")
    print(f"  posts/s         {rate:,.0f}  (target 500: {rate / 500:.2f}x)")
    print(f"  server CPU      {server_cpu * 1000 / arguments.posts:.2f} ms per post")
    print(f"  latency p50     {statistics.median(latencies) * 1000:.1f} ms")
    print(f"  latency p99     {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
    print(f"  in the inbox    {len(stored)} rows; accepted but missing: {len(missing)}")
    if missing or len(stored) != len(accepted):
        raise SystemExit("LOST OR EXTRA COMMENTS")


if __name__ == "__main__":
    main()
