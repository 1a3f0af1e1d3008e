"""`invoke moderate`: the pipeline from pending comments to published files.

1. Local rules (moderation.checks) on every pending comment.
2. Akismet comment-check (moderation.akismet_client) for those no rule called spam.
3. Automatic decisions, committed together; comments Akismet could not judge stay pending.
4. The author's review on a terminal (moderation.review), unless --no-input.
5. Publishing (moderation.publish): removals, approved comments, likes.
6. Purge of email, IP and user agent N days after a decision.

Also runnable without invoke: `python -m moderation.moderate --root PROJECT [options]`
(it does not rebuild the site; the invoke task does).

Exit status: 0 all done; 1 Akismet could not be reached for some comments (they stay
pending, with the reason); 2 Akismet refused the key (nothing was changed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import akismet
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from moderation import checks, inbox, publish, review
from moderation.akismet_client import (
    AkismetSettings,
    CheckResult,
    check_comments,
    describe_error,
    submit_correction,
)
from moderation.akismet_client import client as akismet_client
from moderation.inbox import Status

# The intake's override of its INBOX_PATH: both sides must open the same inbox.
INBOX_ENV = "COMMENT_INTAKE_INBOX"
EXIT_OK = 0
EXIT_AKISMET_UNREACHABLE = 1
EXIT_KEY_REFUSED = 2
NO_KEY_MESSAGE = (
    "Akismet is not configured (PYTHON_AKISMET_API_KEY and PYTHON_AKISMET_BLOG_URL are not "
    "both set): only the local rules run, and every comment they do not call spam is held "
    "for your review."
)
# Below this many comments a progress bar is more noise than help.
PROGRESS_FROM = 10
# Beyond this many, a table of every automatic decision is too long to read: counts only
# (`invoke moderate --log` has each one).
TABLE_UP_TO = 50


@dataclass(frozen=True)
class Options:
    """The command line: `invoke moderate [--no-input] [--dry-run] [--review-spam] [--log]`."""

    no_input: bool = False
    dry_run: bool = False
    review_spam: bool = False
    log: bool = False


@dataclass(frozen=True)
class ModerationSettings:
    """The MODERATION dict in pelicanconf.py, with its defaults."""

    max_links: int = 2
    hold_first_comment: bool = False
    hold_all: bool = False
    purge_after_days: int = 30
    blocklist_path: str = "var/blocklist.txt"
    akismet_concurrency: int = 32
    akismet_retries: int = 3
    akismet_backoff: float = 0.5
    akismet_timeout: float = 5.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModerationSettings:
        """From MODERATION's upper-case keys; an unknown key is an error, not a silent no-op."""
        known = {name.upper(): name for name in cls.__dataclass_fields__}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"MODERATION has unknown settings: {', '.join(unknown)}")
        return cls(**{known[key]: value for key, value in values.items()})


@dataclass(frozen=True)
class Paths:
    """Where the pipeline reads and writes, all resolved against the project folder."""

    inbox: Path
    comments_dir: Path
    comments_json: Path
    blocklist: Path

    @classmethod
    def from_pelican(cls, root: Path, pelican: Mapping[str, Any], blocklist: str) -> Paths:
        """From Pelican settings: PATH, OUTPUT_PATH, THREADED_COMMENTS and COMMENT_INTAKE.

        COMMENT_INTAKE_INBOX overrides the inbox path, as it does for the intake.
        """
        content = root / pelican.get("PATH", "content")
        comments = pelican.get("THREADED_COMMENTS", {}).get("PATH", "comments")
        inbox_path = os.environ.get(INBOX_ENV) or pelican.get("COMMENT_INTAKE", {}).get(
            "INBOX_PATH", "var/inbox.sqlite3"
        )
        return cls(
            inbox=root / inbox_path,
            comments_dir=content / comments,
            comments_json=root / pelican.get("OUTPUT_PATH", "output") / "comments.json",
            blocklist=root / blocklist,
        )


def counted(number: int, noun: str) -> str:
    """ "1 comment", "2 comments": the summary lines read as sentences."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def load_posts(path: Path) -> dict[str, dict[str, Any]]:
    """output/comments.json's posts (title, url, modified), or {} before the first build."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("posts", {})


@dataclass(frozen=True)
class Verdict:
    """The automatic decision on one comment; status None means it stays pending."""

    status: Status | None
    actor: str
    reasons: list[str]
    needs_care: bool
    akismet: str | None = None


def decide_automatically(
    outcome: checks.RuleOutcome, result: CheckResult | None, hold_all: bool
) -> Verdict:
    """Combine the local rules and Akismet's answer (None: Akismet not configured)."""
    care = outcome.needs_care
    if outcome.spam:
        return Verdict(Status.SPAM, "rule", outcome.spam + outcome.hold, care)
    if result is None:
        return Verdict(Status.HELD, "rule", [*outcome.hold, "Akismet is not configured"], care)
    if result.error is not None:
        return Verdict(
            None, "akismet", [*outcome.hold, f"Akismet unreachable: {result.error}"], care
        )
    if result.verdict is akismet.CheckResponse.DISCARD:
        return Verdict(Status.DISCARDED, "akismet", ["Akismet: blatant spam"], care, "discard")
    if result.verdict is akismet.CheckResponse.SPAM:
        # Words of crisis reach a person even when Akismet doubts them.
        status = Status.HELD if care else Status.SPAM
        return Verdict(status, "akismet", ["Akismet: spam", *outcome.hold], care, "spam")
    if outcome.hold or care:
        return Verdict(Status.HELD, "rule", outcome.hold, care, "ham")
    if hold_all:
        return Verdict(Status.HELD, "rule", ["the settings hold every comment"], care, "ham")
    return Verdict(Status.APPROVED, "akismet", ["Akismet: not spam; no rule matched"], care, "ham")


def _check_with_akismet(
    settings: AkismetSettings,
    comments: list[sqlite3.Row],
    posts: Mapping[str, Mapping[str, Any]],
    console: Console,
) -> dict[str, CheckResult]:
    modified = {slug: post.get("modified", "") for slug, post in posts.items()}
    try:
        with (
            akismet_client(settings) as verified,
            Progress(console=console, disable=len(comments) < PROGRESS_FROM) as progress,
        ):
            task = progress.add_task("Asking Akismet", total=len(comments))
            return check_comments(
                verified, settings, comments, modified, lambda: progress.advance(task)
            )
    except (akismet.RequestError, akismet.ProtocolError) as error:
        reason = CheckResult(error=describe_error(error))
        return {comment["id"]: reason for comment in comments}


def check_pending(
    connection: sqlite3.Connection,
    settings: ModerationSettings,
    akismet_settings: AkismetSettings | None,
    blocklist: checks.Blocklist,
    posts: Mapping[str, Mapping[str, Any]],
    console: Console,
) -> dict[str, Verdict]:
    """The automatic verdict for every pending comment; changes nothing.

    Raises akismet.APIKeyError when Akismet refuses the key.
    """
    rules = checks.RuleSettings(settings.max_links, settings.hold_first_comment, blocklist)
    pending = inbox.comments_with_status(connection, Status.PENDING)
    outcomes = {
        comment["id"]: checks.evaluate(
            comment,
            rules,
            known_author=bool(comment["email"])
            and inbox.has_approved_comment_from(connection, comment["email"]),
        )
        for comment in pending
    }
    to_ask = [comment for comment in pending if not outcomes[comment["id"]].spam]
    results: dict[str, CheckResult] = {}
    if akismet_settings is not None and to_ask:
        results = _check_with_akismet(akismet_settings, to_ask, posts, console)
    return {
        comment["id"]: decide_automatically(
            outcomes[comment["id"]],
            results.get(comment["id"]) if akismet_settings else None,
            settings.hold_all,
        )
        for comment in pending
    }


def apply_verdicts(connection: sqlite3.Connection, verdicts: Mapping[str, Verdict]) -> None:
    """Commit every automatic decision in one transaction: all of them or none."""
    with inbox.transaction(connection):
        for comment_id, verdict in verdicts.items():
            if verdict.status is None:
                inbox.set_reasons(connection, comment_id, verdict.reasons)
                continue
            inbox.decide(
                connection,
                comment_id,
                verdict.status,
                verdict.actor,
                verdict.reasons,
                needs_care=verdict.needs_care,
                akismet_verdict=verdict.akismet,
            )


def verdict_table(verdicts: Mapping[str, Verdict], title: str) -> Table:
    """Each comment's automatic decision and why."""
    table = Table(title=title)
    for column in ("comment", "decision", "by", "why"):
        table.add_column(column, no_wrap=column == "comment")
    for comment_id, verdict in verdicts.items():
        status = str(verdict.status) if verdict.status else "stays pending"
        table.add_row(*map(Text, (comment_id, status, verdict.actor, "; ".join(verdict.reasons))))
    return table


def log_lines(connection: sqlite3.Connection) -> list[str]:
    """The decision log, one plain line each (easy to grep): when, comment, post, what,
    by whom (rule, akismet, author, reader, publish) and why."""
    lines = []
    for entry in inbox.decision_log(connection):
        why = f": {entry['reason']}" if entry["reason"] else ""
        lines.append(
            f"{entry['at']}  {entry['comment_id']}  {entry['post_slug'] or '-'}  "
            f"{entry['action']} by {entry['actor']}{why}"
        )
    return lines


def make_correction(
    akismet_settings: AkismetSettings | None, posts: Mapping[str, Mapping[str, Any]]
) -> review.Correction:
    """What review calls when the author overrules Akismet: submit-ham or submit-spam."""

    def correct(comment: sqlite3.Row, spam: bool) -> str:
        kind = "submit-spam" if spam else "submit-ham"
        if akismet_settings is None:
            return f"Akismet is not configured: no {kind} sent."
        modified = posts.get(comment["post_slug"], {}).get("modified")
        try:
            with akismet_client(akismet_settings, verify=False) as unverified:
                submit_correction(unverified, akismet_settings, comment, modified, spam=spam)
        except akismet.AkismetError as error:
            return f"Could not send {kind} to Akismet: {describe_error(error)}"
        return f"Told Akismet it was wrong ({kind})."

    return correct


def run(
    paths: Paths,
    settings: ModerationSettings,
    options: Options,
    console: Console,
    *,
    blog_lang: str = "en",
    interactive: bool | None = None,
) -> int:
    """Run the pipeline once; returns the exit status (see the module's docstring)."""
    if options.dry_run and not paths.inbox.exists():
        console.print(f"No inbox at {paths.inbox}: nothing to moderate.")
        return EXIT_OK
    connection = inbox.connect(paths.inbox)
    try:
        if options.log:
            for line in log_lines(connection):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            return EXIT_OK
        return _run(connection, paths, settings, options, console, blog_lang, interactive)
    finally:
        connection.close()


def _run(
    connection: sqlite3.Connection,
    paths: Paths,
    settings: ModerationSettings,
    options: Options,
    console: Console,
    blog_lang: str,
    interactive: bool | None,
) -> int:
    posts = load_posts(paths.comments_json)
    akismet_settings = AkismetSettings.from_environment(
        concurrency=settings.akismet_concurrency,
        retries=settings.akismet_retries,
        backoff=settings.akismet_backoff,
        timeout=settings.akismet_timeout,
        blog_lang=blog_lang,
    )
    if akismet_settings is None:
        console.print(NO_KEY_MESSAGE)
    try:
        verdicts = check_pending(
            connection,
            settings,
            akismet_settings,
            checks.Blocklist.load(paths.blocklist),
            posts,
            console,
        )
    except akismet.APIKeyError:
        console.print(
            "Akismet refused the API key or blog URL (PYTHON_AKISMET_API_KEY, "
            "PYTHON_AKISMET_BLOG_URL): stopped before changing anything. Check both values."
        )
        return EXIT_KEY_REFUSED
    unreachable = [cid for cid, verdict in verdicts.items() if verdict.status is None]

    if options.dry_run:
        if verdicts:
            console.print(verdict_table(verdicts, "Would decide (dry run: nothing written)"))
        report = publish.publish(connection, paths.comments_dir, dry_run=True)
        approving = sum(verdict.status is Status.APPROVED for verdict in verdicts.values())
        console.print(
            f"Would publish {len(report.published) + approving}, remove {len(report.removed)}, "
            f"update likes on {len(report.likes_folded)}."
        )
        return EXIT_AKISMET_UNREACHABLE if unreachable else EXIT_OK

    apply_verdicts(connection, verdicts)
    if 0 < len(verdicts) <= TABLE_UP_TO:
        console.print(verdict_table(verdicts, "Automatic decisions"))
    counts = Counter(str(v.status) if v.status else "still pending" for v in verdicts.values())
    console.print(
        f"Checked {counted(len(verdicts), 'new comment')}: "
        + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none")
    )
    if unreachable:
        console.print(
            f"Akismet could not be reached for {counted(len(unreachable), 'comment')}: they stay "
            "pending, with the reason, for the next run."
        )

    _review(connection, paths, options, console, posts, akismet_settings, interactive)

    report = publish.publish(connection, paths.comments_dir)
    console.print(
        f"Published {counted(len(report.published), 'comment')}, carried out "
        f"{counted(len(report.removed), 'removal request')}, "
        f"updated likes on {len(report.likes_folded)}."
    )
    if report.waiting:
        console.print(f"Approved replies waiting for their parent comment: {len(report.waiting)}.")

    cutoff = datetime.now(UTC) - timedelta(days=settings.purge_after_days)
    with inbox.transaction(connection):
        purged = inbox.purge_private_details(connection, cutoff.replace(microsecond=0).isoformat())
    console.print(
        f"Purged email, IP and user agent of {counted(purged, 'comment')} decided more than "
        f"{settings.purge_after_days} days ago."
    )
    return EXIT_AKISMET_UNREACHABLE if unreachable else EXIT_OK


def _review(
    connection: sqlite3.Connection,
    paths: Paths,
    options: Options,
    console: Console,
    posts: Mapping[str, Mapping[str, Any]],
    akismet_settings: AkismetSettings | None,
    interactive: bool | None,
) -> None:
    statuses = [Status.HELD, Status.SPAM] if options.review_spam else [Status.HELD]
    to_review = inbox.comments_with_status(connection, *statuses)
    if not to_review:
        return
    if interactive is None:
        interactive = sys.stdin.isatty()
    if options.no_input or not interactive:
        table = Table(title="Waiting for your review (run `invoke moderate` on a terminal)")
        for column in ("comment", "status", "post", "author", "why"):
            table.add_column(column, no_wrap=column == "comment")
        for comment in to_review:
            reasons = "; ".join(json.loads(comment["reasons"] or "[]"))
            care = "NEEDS CARE " if comment["needs_care"] else ""
            # Text cells: a reader's name like "[/b]" is shown, not read as rich markup.
            table.add_row(
                *map(
                    Text,
                    (
                        comment["id"],
                        care + comment["status"],
                        comment["post_slug"],
                        comment["author"],
                        reasons,
                    ),
                )
            )
        console.print(table)
        return
    result = review.review(
        console,
        connection,
        to_review,
        posts,
        paths.comments_dir,
        make_correction(akismet_settings, posts),
    )
    console.print(review.summary_table(result))


def run_project(root: Path, pelican_settings: Mapping[str, Any], options: Options) -> int:
    """Run the pipeline for the project at `root` with its Pelican settings (the task's way)."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    settings = ModerationSettings.from_dict(pelican_settings.get("MODERATION", {}))
    paths = Paths.from_pelican(root, pelican_settings, settings.blocklist_path)
    lang = pelican_settings.get("DEFAULT_LANG", "en")
    return run(paths, settings, options, Console(), blog_lang=lang)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m moderation.moderate`: the pipeline without the rebuild."""
    from pelican.settings import DEFAULT_CONFIG, get_settings_from_file

    parser = argparse.ArgumentParser(prog="python -m moderation.moderate", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder")
    parser.add_argument("--no-input", action="store_true", help="no review; decide what rules can")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would happen; write nothing"
    )
    parser.add_argument("--review-spam", action="store_true", help="review the spam list too")
    parser.add_argument("--log", action="store_true", help="print the decision log and stop")
    arguments = parser.parse_args(argv)
    root = arguments.root.resolve()
    pelican_settings = {**DEFAULT_CONFIG, **get_settings_from_file(str(root / "pelicanconf.py"))}
    options = Options(
        no_input=arguments.no_input,
        dry_run=arguments.dry_run,
        review_spam=arguments.review_spam,
        log=arguments.log,
    )
    return run_project(root, pelican_settings, options)


if __name__ == "__main__":
    sys.exit(main())
