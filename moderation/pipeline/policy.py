"""The automatic decision on a pending comment: the local rules' findings and Akismet's
answer combined into one verdict. Pure: it reads the inbox, and changes nothing.

The order of precedence, in words: a rule that calls it spam decides at once; words that
need care are held for the author and never sent to Akismet (its text and its writer's
details stay on the server, issue 14); without Akismet every other comment waits for the
author; Akismet's "discard" and "spam" are final; a hold reason sends it to review; the
HOLD_ALL setting holds the rest; only then is a comment approved by itself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import akismet

from moderation import commenters
from moderation.inbox import Status
from moderation.pipeline import rules
from moderation.pipeline.akismet_client import CheckResult

NOT_SENT_TO_AKISMET = "not sent to Akismet: it needs care, so the author reads it first"


def asks_akismet(outcome: rules.RuleOutcome) -> bool:
    """Whether Akismet is asked about a comment: not when a rule already called it spam, nor
    when its words need care (held for the author anyway; they never leave the server)."""
    return not outcome.spam and not outcome.needs_care


@dataclass(frozen=True)
class Verdict:
    """The automatic decision on one comment; status None means it stays pending."""

    status: Status | None
    actor: str
    reasons: list[str]
    needs_care: bool
    akismet: str | None = None


def rule_outcomes(
    connection: sqlite3.Connection, pending: list[sqlite3.Row], settings: rules.RuleSettings
) -> dict[str, rules.RuleOutcome]:
    """What the local rules find in each pending comment, by comment id."""
    return {
        comment["id"]: rules.evaluate(
            comment,
            settings,
            known_author=bool(comment["email"])
            and commenters.is_known(connection, comment["email"]),
        )
        for comment in pending
    }


def decide_automatically(
    outcome: rules.RuleOutcome, result: CheckResult | None, hold_all: bool
) -> Verdict:
    """Combine the local rules and Akismet's answer (None: Akismet not configured)."""
    care = outcome.needs_care
    if outcome.spam:
        return Verdict(Status.SPAM, "rule", outcome.spam + outcome.hold, care)
    if care:
        return Verdict(Status.HELD, "rule", [*outcome.hold, NOT_SENT_TO_AKISMET], care)
    if result is None:
        return Verdict(Status.HELD, "rule", [*outcome.hold, "Akismet is not configured"], care)
    if result.error is not None:
        return Verdict(
            None, "akismet", [*outcome.hold, f"Akismet unreachable: {result.error}"], care
        )
    if result.verdict is akismet.CheckResponse.DISCARD:
        return Verdict(Status.DISCARDED, "akismet", ["Akismet: blatant spam"], care, "discard")
    if result.verdict is akismet.CheckResponse.SPAM:
        return Verdict(Status.SPAM, "akismet", ["Akismet: spam", *outcome.hold], care, "spam")
    if outcome.hold:
        return Verdict(Status.HELD, "rule", outcome.hold, care, "ham")
    if hold_all:
        return Verdict(Status.HELD, "rule", ["the settings hold every comment"], care, "ham")
    return Verdict(Status.APPROVED, "akismet", ["Akismet: not spam; no rule matched"], care, "ham")
