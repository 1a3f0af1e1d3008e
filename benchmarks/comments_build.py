"""How much do threaded comments add to a build? A generated site, with and without them.

Generates (in a temporary folder) a site of 1,000 posts with 20 threaded comments each, and
builds it with the project's pelicanconf.py and theme, as `invoke build` does:

* cold builds (output and cache wiped first): median of 3 runs with content/comments/ and
  3 without (the same site with the folder removed), alternating; and their ratio;
* rebuilds where nothing changed (Pelican's content cache and the plugin's cache on): the
  same, after one warm-up build of each.

Targets: cold ratio <= 1.25, unchanged-rebuild ratio <= 1.10. Run:

    .venv/bin/python benchmarks/comments_build.py [--posts 1000] [--comments 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "session",
    "therapist",
    "week",
    "room",
    "chair",
    "quiet",
    "talk",
    "felt",
    "noticed",
    "again",
    "mother",
    "slowly",
    "morning",
    "winter",
    "trust",
    "anger",
    "kind",
    "careful",
    "small",
    "honest",
    "waiting",
    "bus",
    "letter",
    "notebook",
    "thought",
    "listened",
    "question",
    "answer",
    "tired",
    "hopeful",
    "ordinary",
    "strange",
    "gentle",
    "silence",
    "remember",
    "changed",
    "habit",
    "weekend",
    "tea",
    "window",
    "train",
    "reading",
    "friend",
    "dream",
]
CATEGORIES = ["Between", "Sessions", "Reading", "Everyday"]
TAGS = ["texting", "boundaries", "breaks", "anger", "books", "family", "sleep", "work"]


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def comment_body(rng: random.Random) -> str:
    paragraphs = [
        " ".join(sentence(rng) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))
    ]
    # About one comment in ten uses Markdown, as readers now and then do.
    if rng.random() < 0.1:
        paragraphs.append(
            rng.choice(
                [
                    f"This, *exactly*: {sentence(rng)}",
                    f"> {sentence(rng)}\n\n{sentence(rng)}",
                    f"I wrote about it [here](https://example.org/{rng.randint(1, 999)}).",
                    f"- {sentence(rng, 3, 6)}\n- {sentence(rng, 3, 6)}",
                ]
            )
        )
    return "\n\n".join(paragraphs)


def generate(root: Path, posts: int, comments: int, seed: int = 1) -> tuple[Path, Path]:
    """Write the site twice: with content/comments/ and without. Returns both content paths."""
    rng = random.Random(seed)
    with_comments = root / "with" / "content"
    start = datetime(2012, 1, 1, 9, 0, tzinfo=UTC)
    for number in range(posts):
        slug = f"post-{number:04d}"
        date = start + timedelta(days=number * 3, hours=rng.randint(0, 12))
        body = "\n\n".join(
            " ".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(6)
        )
        (with_comments / f"{slug}.md").parent.mkdir(parents=True, exist_ok=True)
        (with_comments / f"{slug}.md").write_text(
            f"Title: Post number {number}\nDate: {date:%Y-%m-%d %H:%M}\n"
            f"Category: {rng.choice(CATEGORIES)}\nTags: {', '.join(rng.sample(TAGS, 2))}\n"
            f"Slug: {slug}\n\n{body}\n",
            encoding="utf-8",
        )
        folder = with_comments / "comments" / slug
        folder.mkdir(parents=True)
        ids: list[str] = []
        for index in range(comments):
            comment_id = f"{slug}-c{index:03d}"
            parent = rng.choice(ids) if ids and rng.random() < 0.6 else None
            lines = [
                f"author: Reader {rng.randint(1, 400)}",
                f"date: {(date + timedelta(hours=index * 5)).isoformat()}",
            ]
            if parent:
                lines.append(f"replyto: {parent}")
            if rng.random() < 0.3:
                lines.append(f"likes: {rng.randint(1, 9)}")
            if rng.random() < 0.1:
                lines.append(f"website: https://reader{index}.example.net")
            (folder / f"{comment_id}.md").write_text(
                "\n".join(lines) + "\n\n" + comment_body(rng) + "\n", encoding="utf-8"
            )
            ids.append(comment_id)
    without_comments = root / "without" / "content"
    shutil.copytree(with_comments, without_comments, ignore=shutil.ignore_patterns("comments"))
    return with_comments, without_comments


PERF = shutil.which("perf")


def _instructions_counted() -> bool:
    """Whether `perf stat` can count instructions here (not on every virtual machine)."""
    if PERF is None:
        return False
    probe = subprocess.run(
        [PERF, "stat", "-x,", "-e", "instructions", "true"], capture_output=True, text=True
    )
    return probe.returncode == 0 and "not supported" not in probe.stderr


COUNT_INSTRUCTIONS = _instructions_counted()


def build(content: Path, wipe: bool) -> tuple[float, float, float]:
    """One `pelican` run as `invoke build` makes it: (wall s, CPU s, instructions).

    CPU time (user + system, with any process the build forks) and, where `perf` can count
    them, instructions (0 where it cannot) are printed too: on a shared virtual machine
    wall time swings by tens of percent between identical runs; instruction counts hardly
    move at all, though they miss time spent waiting on the disk.
    """
    output, cache = content.parent / "output", content.parent / "cache"
    if wipe:
        shutil.rmtree(output, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
    command = [
        sys.executable, "-m", "pelican", str(content), "-o", str(output),
        "-s", str(PROJECT_ROOT / "pelicanconf.py"), "--fatal", "errors",
        "--cache-path", str(cache), "-q",
    ]  # fmt: skip
    counts = content.parent / "perf.csv"
    if COUNT_INSTRUCTIONS:
        command = [PERF, "stat", "-x,", "-e", "instructions", "-o", str(counts), *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"build of {content} failed:\n{result.stdout}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    instructions = 0.0
    if COUNT_INSTRUCTIONS:
        for line in counts.read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2].startswith("instructions"):
                instructions = float(fields[0])
    return elapsed, cpu, instructions


def measure(with_c: Path, without_c: Path, runs: int, wipe: bool) -> dict[Path, list[float]]:
    """Medians of (wall, CPU, instructions) over `runs` alternating builds with and without
    comments. Each pair's wall times are printed as they come, to show the spread."""
    timings: dict[Path, list[tuple[float, float, float]]] = {with_c: [], without_c: []}
    for number in range(1, runs + 1):
        for content in (with_c, without_c):
            timings[content].append(build(content, wipe))
        with_wall, without_wall = timings[with_c][-1][0], timings[without_c][-1][0]
        print(
            f"  run {number}: {with_wall:.2f} s / {without_wall:.2f} s = "
            f"{with_wall / without_wall:.3f}",
            flush=True,
        )
    return {
        content: [statistics.median(column) for column in zip(*runs_of, strict=True)]
        for content, runs_of in timings.items()
    }


def report(label: str, with_c: list[float], without_c: list[float], target: float) -> None:
    ratio = with_c[0] / without_c[0]
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"{label}: with comments {with_c[0]:.2f} s, without {without_c[0]:.2f} s, "
        f"ratio {ratio:.3f} ({verdict} the target <= {target}); CPU time "
        f"{with_c[1]:.2f} s / {without_c[1]:.2f} s = {with_c[1] / without_c[1]:.3f}"
    )
    if COUNT_INSTRUCTIONS:
        print(
            f"{' ' * len(label)}  instructions {with_c[2] / 1e9:.2f} G / "
            f"{without_c[2] / 1e9:.2f} G = {with_c[2] / without_c[2]:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="comments-bench-") as folder:
        started = time.perf_counter()
        with_c, without_c = generate(Path(folder), arguments.posts, arguments.comments)
        print(
            f"generated {arguments.posts} posts x {arguments.comments} comments "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        cold = measure(with_c, without_c, arguments.runs, wipe=True)
        report("cold build", cold[with_c], cold[without_c], 1.25)
        for content in (with_c, without_c):
            build(content, wipe=True)  # warm the caches
        unchanged = measure(with_c, without_c, arguments.runs, wipe=False)
        report("unchanged rebuild", unchanged[with_c], unchanged[without_c], 1.10)


if __name__ == "__main__":
    main()
