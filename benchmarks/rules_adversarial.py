"""How long do the local rules take on comments written to make them slow (issue 12)?

For each body size (doubling), fills a fresh inbox in a temporary folder with that many
pending comments whose bodies are adversarial for the rules' patterns (long runs of
letters, dots, digits with separators, `www.`, an `@` before a long run...), then runs
`python -m moderation.pipeline.run --no-input` on it once (what `invoke moderate --no-input`
runs, without the rebuild; no Akismet key, so only the local rules decide). Prints the
run's CPU time (user + system of the child process) beside its wall time, and CPU time
per comment and per KiB: linear rules keep CPU per KiB flat as the size doubles.

    .venv/bin/python benchmarks/rules_adversarial.py [--comments 1000] [--sizes 8,16,32,64]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from moderation import inbox  # noqa: E402

POST = "texting-my-therapist"
# Each shape repeated to the body's size; every one made some pattern's time grow with
# the square of the length before issue 12.
SHAPES = ("a", "a.", "www.", "1 ", "(1", "@a", "a.b@", "kill ")


def adversarial_body(number: int, size: int) -> str:
    shape = SHAPES[number % len(SHAPES)]
    return (shape * (size // len(shape) + 1))[:size]


def fill_inbox(root: Path, comments: int, size: int) -> None:
    (root / "output").mkdir()
    targets = {"posts": {POST: {"url": "/p/", "title": "P", "open": True, "comments": []}}}
    (root / "output" / "comments.json").write_text(json.dumps(targets))
    (root / "pelicanconf.py").write_text("")
    connection = inbox.connect(root / "var" / "inbox.sqlite3")
    with inbox.transaction(connection):
        for number in range(comments):
            inbox.insert_comment(
                connection,
                inbox.NewComment(
                    post_slug=POST,
                    author=f"Reader {number}",
                    email=f"reader{number}@example.org",
                    body=adversarial_body(number, size),
                    permalink="/p/",
                ),
            )
    connection.close()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(comments: int, size: int) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, comments held) of one moderation run."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        fill_inbox(root, comments, size)
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON_AKISMET", "AKISMET", "COMMENT_INTAKE"))
        }
        cpu_before, started = children_cpu(), time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "moderation.pipeline.run", "--root", folder, "--no-input"],
            cwd=PROJECT_ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
        wall, cpu = time.perf_counter() - started, children_cpu() - cpu_before
        connection = inbox.connect(root / "var" / "inbox.sqlite3")
        held = len(inbox.comments_with_status(connection, inbox.Status.HELD))
        connection.close()
    return cpu, wall, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--sizes", default="8,16,32,64", help="body sizes in KiB")
    arguments = parser.parse_args()
    print(f"moderate --no-input, {arguments.comments} adversarial comments per run")
    print(f"  load before {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("  body KiB   CPU s    wall s   CPU ms/comment   CPU ms/KiB   held")
    for kib in (int(size) for size in arguments.sizes.split(",")):
        cpu, wall, held = measure(arguments.comments, kib * 1024)
        per_comment = cpu * 1000 / arguments.comments
        print(
            f"  {kib:8}  {cpu:6.2f}  {wall:8.2f}  {per_comment:15.2f}  "
            f"{per_comment / kib:11.3f}  {held:5}"
        )


if __name__ == "__main__":
    main()
