"""How fast does `invoke moderate` get through a backlog when Akismet is slow?

Puts 1,000 pending comments in a fresh inbox (in a temporary folder) and runs the
moderation pipeline once with --no-input (no rebuild), with the real `akismet` client talking
to the test stand-in (tests/support/akismet_standin.py), which answers every call after 100 ms. The
stand-in runs in its own process, as Akismet would, so its work is not counted as ours.
Prints the wall time, comments per second, and the ratio to checking one at a time
(comments x delay). Target: <= 10 s for 1,000 comments. Run:

    .venv/bin/python benchmarks/moderate_akismet.py [--comments 1000] [--delay 0.1]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from rich.console import Console  # noqa: E402

from moderation import inbox  # noqa: E402
from moderation.pipeline.run import CommandLine, run  # noqa: E402
from moderation.settings import load_settings  # noqa: E402
from tests.support.akismet_standin import BLOG_URL, VALID_KEY  # noqa: E402

SENTENCES = [
    "I read this on the bus and had to put my phone down for a minute.",
    "The part about waiting for a reply is exactly where I am now.",
    "My therapist and I agreed on something similar last spring.",
    "Thank you for writing about the rules; it helps to see them spelled out.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per Akismet answer")
    arguments = parser.parse_args()

    script = PROJECT_ROOT / "tests" / "support" / "akismet_standin.py"
    standin = subprocess.Popen(
        [sys.executable, str(script), "--delay", str(arguments.delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    api_url = standin.stdout.readline().strip()
    os.environ.update(
        PYTHON_AKISMET_API_KEY=VALID_KEY,
        PYTHON_AKISMET_BLOG_URL=BLOG_URL,
        AKISMET_API_URL=api_url,
        AKISMET_IS_TEST="1",
    )
    try:
        measure(arguments)
    finally:
        standin.terminate()
        standin.wait()


def measure(arguments: argparse.Namespace) -> None:
    """Fill an inbox, run the pipeline once, print the figures."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        # Defaults throughout: the inbox, comments and blocklist in the temporary folder.
        (root / "pelicanconf.py").write_text("")
        settings = load_settings(root / "pelicanconf.py", environ={})
        connection = inbox.connect(settings.inbox)
        for number in range(arguments.comments):
            inbox.add_comment(
                connection,
                inbox.NewComment(
                    post_slug="texting-my-therapist",
                    author=f"Reader {number}",
                    email=f"reader{number}@example.org",
                    body=SENTENCES[number % len(SENTENCES)],
                    permalink="/2016/03/texting-my-therapist/",
                    ip=f"198.51.100.{number % 250 + 1}",
                    user_agent="Mozilla/5.0 (Benchmark)",
                ),
            )
        console = Console(file=io.StringIO())

        started = time.perf_counter()
        code = run(settings, CommandLine(no_input=True), console, interactive=False)
        elapsed = time.perf_counter() - started

        published = len(list(settings.comments_dir.glob("*/*.md")))
        approved = len(inbox.comments_with_status(connection, inbox.Status.APPROVED))
        connection.close()

    one_at_a_time = arguments.comments * arguments.delay
    print(f"comments:            {arguments.comments} (Akismet answers after {arguments.delay} s)")
    print(f"concurrency:         {settings.moderation.akismet_concurrency}")
    print(f"approved: {approved}; published: {published}; exit status: {code}")
    print(f"wall time:           {elapsed:.2f} s (target <= 10 s for 1,000)")
    print(f"throughput:          {arguments.comments / elapsed:.0f} comments/s")
    print(f"vs one at a time:    {one_at_a_time:.0f} s, {one_at_a_time / elapsed:.1f}x faster")
    # Other work on the machine shows in the figure: say how busy it was.
    print(f"load average:        {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
