"""`invoke moderate`: one run of the pipeline from pending comments to published files.

1. Local rules (moderation.pipeline.rules) on every pending comment.
2. Akismet comment-check (moderation.pipeline.akismet_client) for those no rule called spam
   or marked needs care.
3. Automatic decisions (moderation.pipeline.policy), committed together; comments Akismet
   could not judge stay pending.
4. The author's review on a terminal (moderation.pipeline.console), unless --no-input.
5. Publishing (moderation.pipeline.publish): removals, approved comments, likes.
6. Purge of email, IP and user agent N days after a decision (and of sent mail).
7. Mail: what publishing queued, and anything the intake could not send yet (issue 14).

Also runnable without invoke: `python -m moderation.pipeline.run --root PROJECT [options]`
(it does not rebuild the site; the invoke task does).

Exit status: 0 all done; 1 Akismet could not be reached for some comments (they stay
pending, with the reason); 2 Akismet refused the key (nothing was changed); 3 another run
on the same inbox was under way (nothing was done: see moderation.pipeline.lock); 130
stopped by Ctrl-C (every decision made before it is saved; nothing more is done).

A decision is made only on the status it was read with (`inbox.decide(expected=...)`): a
comment that moved in the meantime (deleted by the author while Akismet was asked, say) is
reported and left as it is.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import akismet
from rich.console import Console
from rich.progress import Progress
from threaded_comments import PostEntry, read_comments_json

from moderation import inbox, mail, outbox, subscriptions
from moderation.inbox import Status
from moderation.notify import Notifier
from moderation.pipeline import publish, rules
from moderation.pipeline.akismet_client import (
    AkismetSettings,
    CheckResult,
    check_comments,
    describe_error,
    submit_correction,
)
from moderation.pipeline.akismet_client import client as akismet_client
from moderation.pipeline.console import (
    Correction,
    ReviewResult,
    counted,
    log_lines,
    review,
    summary_table,
    verdict_table,
    waiting_table,
)
from moderation.pipeline.lock import AlreadyRunningError, one_run_at_a_time
from moderation.pipeline.policy import Verdict, asks_akismet, decide_automatically, rule_outcomes
from moderation.settings import ProjectSettings, load_settings

EXIT_OK = 0
EXIT_AKISMET_UNREACHABLE = 1
EXIT_KEY_REFUSED = 2
EXIT_ALREADY_RUNNING = 3
# The shell's own code for a program ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = (
    "Stopped (Ctrl-C): every decision made before it is saved in the inbox; run "
    "`invoke moderate` again to carry on and publish what is approved."
)
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
class CommandLine:
    """The command line: `invoke moderate [--no-input] [--dry-run] [--review-spam] [--log]`."""

    no_input: bool = False
    dry_run: bool = False
    review_spam: bool = False
    log: bool = False


def load_posts(path: Path) -> dict[str, PostEntry]:
    """comments.json's posts (title, url, modified), or {} before the first build."""
    if not path.exists():
        return {}
    return read_comments_json(path)


def _check_with_akismet(
    settings: AkismetSettings,
    comments: list[sqlite3.Row],
    posts: Mapping[str, PostEntry],
    console: Console,
) -> dict[str, CheckResult]:
    modified = {slug: post.modified for slug, post in posts.items()}
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
    settings: ProjectSettings,
    akismet_settings: AkismetSettings | None,
    posts: Mapping[str, PostEntry],
    console: Console,
) -> dict[str, Verdict]:
    """The automatic verdict for every pending comment; changes nothing.

    Raises akismet.APIKeyError when Akismet refuses the key.
    """
    blocklist = rules.Blocklist.load(settings.blocklist)
    rule_settings = rules.RuleSettings.from_options(settings.moderation, blocklist)
    pending = inbox.comments_with_status(connection, Status.PENDING)
    outcomes = rule_outcomes(connection, pending, rule_settings)
    to_ask = [comment for comment in pending if asks_akismet(outcomes[comment["id"]])]
    results: dict[str, CheckResult] = {}
    if akismet_settings is not None and to_ask:
        results = _check_with_akismet(akismet_settings, to_ask, posts, console)
    return {
        comment["id"]: decide_automatically(
            outcomes[comment["id"]],
            results.get(comment["id"]) if akismet_settings else None,
            settings.moderation.hold_all,
        )
        for comment in pending
    }


def apply_verdicts(
    connection: sqlite3.Connection, verdicts: Mapping[str, Verdict]
) -> list[inbox.StaleDecisionError]:
    """Commit every automatic decision in one transaction; returns the refused ones.

    Each verdict was worked out on a pending comment: one that is no longer pending
    (deleted, removed) keeps its status, and the refusal is returned to be reported.
    """
    stale = []
    with inbox.transaction(connection):
        for comment_id, verdict in verdicts.items():
            try:
                if verdict.status is None:
                    inbox.set_reasons(
                        connection, comment_id, verdict.reasons, expected=Status.PENDING
                    )
                    continue
                inbox.decide(
                    connection,
                    comment_id,
                    verdict.status,
                    verdict.actor,
                    verdict.reasons,
                    expected=Status.PENDING,
                    needs_care=verdict.needs_care,
                    akismet_verdict=verdict.akismet,
                )
            except inbox.StaleDecisionError as error:
                # decide and set_reasons change nothing when they refuse: the rest commits.
                stale.append(error)
    return stale


def make_correction(
    akismet_settings: AkismetSettings | None, posts: Mapping[str, PostEntry]
) -> Correction:
    """What review calls when the author overrules Akismet: submit-ham or submit-spam."""

    def correct(comment: sqlite3.Row, spam: bool) -> str:
        kind = "submit-spam" if spam else "submit-ham"
        if akismet_settings is None:
            return f"Akismet is not configured: no {kind} sent."
        post = posts.get(comment["post_slug"])
        modified = post.modified if post is not None else None
        try:
            with akismet_client(akismet_settings, verify=False) as unverified:
                submit_correction(unverified, akismet_settings, comment, modified, spam=spam)
        except akismet.AkismetError as error:
            return f"Could not send {kind} to Akismet: {describe_error(error)}"
        return f"Told Akismet it was wrong ({kind})."

    return correct


def run(
    settings: ProjectSettings,
    command_line: CommandLine,
    console: Console,
    *,
    interactive: bool | None = None,
) -> int:
    """Run the pipeline once; returns the exit status (see the module's docstring).

    `interactive` None: review when standard input is a terminal.
    """
    if command_line.dry_run and not settings.inbox.exists():
        console.print(f"No inbox at {settings.inbox}: nothing to moderate.")
        return EXIT_OK
    connection = inbox.connect(settings.inbox)
    try:
        return run_on(connection, settings, command_line, console, interactive)
    except KeyboardInterrupt:
        # Each step commits whole or not at all, so stopping anywhere loses nothing decided.
        console.print(INTERRUPTED_MESSAGE, markup=False)
        return EXIT_INTERRUPTED
    finally:
        connection.close()


def run_on(
    connection: sqlite3.Connection,
    settings: ProjectSettings,
    command_line: CommandLine,
    console: Console,
    interactive: bool | None = None,
) -> int:
    """Run the pipeline on an open inbox: the local file, or a remote inbox's copy in
    memory (moderation.pipeline.remote)."""
    if command_line.log:
        posts = load_posts(settings.comments_json)
        for line in log_lines(connection, posts):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return EXIT_OK
    return _run(connection, settings, command_line, console, interactive)


def _run(
    connection: sqlite3.Connection,
    settings: ProjectSettings,
    command_line: CommandLine,
    console: Console,
    interactive: bool | None,
) -> int:
    posts = load_posts(settings.comments_json)
    if not command_line.dry_run:
        # Now, not when publishing: a walk of every post's folder (~15 ms at 1,000 posts)
        # that no decision changes, kept out of the time from an approval to its page.
        publish.clear_leftovers(settings.comments_dir)
    moderation = settings.moderation
    notifier = notifier_for(settings, console)
    akismet_settings = AkismetSettings.from_environment(moderation, settings.blog_lang)
    if akismet_settings is None:
        console.print(NO_KEY_MESSAGE)
    try:
        verdicts = check_pending(connection, settings, akismet_settings, posts, console)
    except akismet.APIKeyError:
        console.print(
            "Akismet refused the API key or blog URL (PYTHON_AKISMET_API_KEY, "
            "PYTHON_AKISMET_BLOG_URL): stopped before changing anything. Check both values."
        )
        return EXIT_KEY_REFUSED
    unreachable = [cid for cid, verdict in verdicts.items() if verdict.status is None]

    if command_line.dry_run:
        if verdicts:
            console.print(
                verdict_table(
                    verdicts,
                    comments_by_id(connection, verdicts),
                    posts,
                    "Would decide (dry run: nothing written)",
                )
            )
        report = publish.publish(connection, settings.comments_dir, settings.timezone, dry_run=True)
        approving = sum(verdict.status is Status.APPROVED for verdict in verdicts.values())
        console.print(
            f"Would publish {len(report.published) + approving}, remove {len(report.removed)}, "
            f"update likes on {len(report.likes_folded)}."
        )
        return EXIT_AKISMET_UNREACHABLE if unreachable else EXIT_OK

    for refused in apply_verdicts(connection, verdicts):
        console.print(f"Left as it is: {refused}.", markup=False, highlight=False, soft_wrap=True)
    if 0 < len(verdicts) <= TABLE_UP_TO:
        console.print(
            verdict_table(
                verdicts, comments_by_id(connection, verdicts), posts, "Automatic decisions"
            )
        )
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

    reviewed = _review(
        connection, settings, command_line, console, posts, akismet_settings, interactive
    )
    if reviewed is not None and reviewed.interrupted:
        console.print(
            f"Stopped (Ctrl-C): your {counted(reviewed.saved(), 'decision')} and the automatic "
            "ones are saved in the inbox; nothing was published this time.",
            markup=False,
        )
        return EXIT_INTERRUPTED

    report = publish.publish(
        connection, settings.comments_dir, settings.timezone, notifier=notifier
    )
    console.print(
        f"Published {counted(len(report.published), 'comment')}, carried out "
        f"{counted(len(report.removed), 'removal request')}, "
        f"updated likes on {len(report.likes_folded)}."
    )
    if report.waiting:
        console.print(f"Approved replies waiting for their parent comment: {len(report.waiting)}.")

    cutoff = datetime.now(UTC) - timedelta(days=moderation.purge_after_days)
    with inbox.transaction(connection):
        purged = inbox.purge_private_details(connection, cutoff.replace(microsecond=0).isoformat())
        outbox.forget_finished(connection, outbox.stamp(cutoff))
        subscriptions.expire_unconfirmed(connection)
    console.print(
        f"Purged email, IP and user agent of {counted(purged, 'comment')} decided more than "
        f"{moderation.purge_after_days} days ago (or waiting for a decision as long)."
    )
    if notifier.smtp is not None:
        send_mail(connection, notifier.smtp, console)
    return EXIT_AKISMET_UNREACHABLE if unreachable else EXIT_OK


def notifier_for(settings: ProjectSettings, console: Console) -> Notifier:
    """Who is told what by mail; says once when mail is off, and why."""
    try:
        notifier = Notifier.from_settings(settings)
    except ValueError as error:
        console.print(f"Mail is off: {error}", markup=False)
        return Notifier(settings.notify, None)
    if notifier.smtp is None:
        console.print(mail.NO_SMTP_MESSAGE, markup=False)
    return notifier


def send_mail(connection: sqlite3.Connection, smtp: mail.SmtpSettings, console: Console) -> None:
    """Send what the outbox holds, and name what a stopped sender left unfinished: that is
    never sent again."""
    report = mail.deliver_due(connection, smtp)
    if report.sent or report.retrying or report.failed:
        console.print(
            f"Mail: sent {report.sent}, {report.retrying} to try again later, "
            f"{report.failed} refused by the server"
            + (f" (last reason: {report.errors[-1]})" if report.errors else "")
            + ".",
            markup=False,
        )
    stranded = outbox.unfinished_claims(connection, datetime.now(UTC) - mail.CLAIM_LEASE)
    if stranded:
        console.print(
            f"{counted(stranded, 'mail')} may not have gone out: a sender stopped while "
            "sending. They are not sent again, so that nobody gets a mail twice.",
            markup=False,
        )


def _review(
    connection: sqlite3.Connection,
    settings: ProjectSettings,
    command_line: CommandLine,
    console: Console,
    posts: Mapping[str, PostEntry],
    akismet_settings: AkismetSettings | None,
    interactive: bool | None,
) -> ReviewResult | None:
    """The author's review on a terminal, or the waiting list without one (None)."""
    statuses = [Status.HELD, Status.SPAM] if command_line.review_spam else [Status.HELD]
    to_review = inbox.comments_with_status(connection, *statuses)
    if not to_review:
        return None
    if interactive is None:
        interactive = sys.stdin.isatty()
    if command_line.no_input or not interactive:
        console.print(waiting_table(to_review, posts))
        return None
    result = review(
        console,
        connection,
        to_review,
        posts,
        settings.comments_dir,
        make_correction(akismet_settings, posts),
        settings.author_name,
    )
    if not result.interrupted:
        console.print(summary_table(result, posts))
    return result


def comments_by_id(
    connection: sqlite3.Connection, ids: Mapping[str, object]
) -> dict[str, sqlite3.Row]:
    """The inbox rows of these comments, for tables that name their authors and posts."""
    return {comment_id: inbox.get_comment(connection, comment_id) for comment_id in ids}


def mail_after_rebuild(settings: ProjectSettings) -> None:
    """Once the rebuilt site shows the newly published replies, release their mail and
    send it (run_project calls this after the rebuild)."""
    console = Console()
    try:
        smtp = mail.SmtpSettings.from_environment(os.environ)
    except ValueError:
        return  # the run has said why mail is off
    connection = inbox.connect(settings.inbox)
    try:
        with inbox.transaction(connection):
            released = outbox.release_held(connection)
        if released and smtp is not None:
            send_mail(connection, smtp, console)
    finally:
        connection.close()


def run_project(
    settings: ProjectSettings,
    command_line: CommandLine,
    rebuild: Callable[[], None] | None = None,
    deploy: Callable[[], None] | None = None,
) -> int:
    """Run the pipeline for a project's settings on this terminal (the task's way), then
    `rebuild` the site if something may have been published and mail the replies it now
    shows, then `deploy` (`invoke moderate --deploy`); all under the one-run lock, so a
    second run's build never overlaps this one's rsync."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    console = Console()
    if command_line.log:  # reads only: no lock needed
        return run(settings, command_line, console)
    try:
        with one_run_at_a_time(settings.inbox):
            code = run(settings, command_line, console)
            if command_line.dry_run or code in (EXIT_KEY_REFUSED, EXIT_INTERRUPTED):
                return code
            if rebuild is not None:
                rebuild()
                # Replies are mailed once the page they link to shows them.
                mail_after_rebuild(settings)
            if deploy is not None:
                deploy()
            return code
    except AlreadyRunningError as error:
        console.print(str(error), markup=False, highlight=False)
        return EXIT_ALREADY_RUNNING


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m moderation.pipeline.run`: the pipeline without the rebuild."""
    parser = argparse.ArgumentParser(prog="python -m moderation.pipeline.run", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder")
    parser.add_argument("--no-input", action="store_true", help="no review; decide what rules can")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would happen; write nothing"
    )
    parser.add_argument("--review-spam", action="store_true", help="review the spam list too")
    parser.add_argument("--log", action="store_true", help="print the decision log and stop")
    arguments = parser.parse_args(argv)
    command_line = CommandLine(
        no_input=arguments.no_input,
        dry_run=arguments.dry_run,
        review_spam=arguments.review_spam,
        log=arguments.log,
    )
    return run_project(load_settings(arguments.root / "pelicanconf.py"), command_line)


if __name__ == "__main__":
    sys.exit(main())
