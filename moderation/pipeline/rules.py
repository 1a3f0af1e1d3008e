"""Local rules: the cheap checks every pending comment meets before Akismet sees it.

Each rule is a small function from a comment to the reasons it found; `evaluate` runs them
all. A spam reason decides the comment at once; a hold reason sends it to the author's
review whatever Akismet says; crisis language also marks it "needs care".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.settings import ModerationOptions

# An inbox row (sqlite3.Row) or any mapping with its columns.
CommentRow = Mapping[str, Any]

# Bare URLs, Markdown/HTML links and www. addresses each count as one link.
LINK = re.compile(r"(?:https?://|www\.)[^\s<>()\"']+", re.IGNORECASE)
# An email address, searched for by `email_addresses`, never by EMAIL alone: a plain
# findall of it tries every position of a long run of letters again, and its time grows
# with the square of the text's length (issue 12).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The same, starting only where a run of its characters starts: a start inside a run fails
# or succeeds as the run's own start did, so these are the only starts worth trying.
EMAIL_AT_RUN_START = re.compile(r"(?<![\w.+-])" + EMAIL.pattern)
# Nine or more digits with the usual separators: long enough to skip dates (8 digits) and
# years, short enough for any national or international phone number.
PHONE = re.compile(r"(?<![\w])\+?(?:\d[\s.\-()]{0,2}){8,14}\d(?![\w])")
CRISIS = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)?\s+myself|end(?:ing)?\s+(?:my|it)\s+(?:life|all)"
    r"|self[\s-]?harm\w*|(?:cut|cutting|hurt|hurting|harm|harming)\s+myself"
    r"|want(?:ed)?\s+to\s+die|don'?t\s+want\s+to\s+(?:be\s+here|live|be\s+alive)"
    r"|overdos\w*|no\s+reason\s+to\s+live)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Blocklist:
    """Words and phrases, email addresses (or @domains) and IP address ranges to refuse."""

    words: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Blocklist:
        """One entry a line; `#` starts a comment. The form of an entry says what it is."""
        words, emails, networks = [], [], []
        for raw in text.splitlines():
            entry = raw.split("#", 1)[0].strip().lower()
            if not entry:
                continue
            if "@" in entry and " " not in entry:
                emails.append(entry)
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                words.append(entry)
        return cls(tuple(words), tuple(emails), tuple(networks))

    @classmethod
    def load(cls, path: Path) -> Blocklist:
        """The blocklist file at `path`; a missing file is an empty list."""
        if not path.exists():
            return cls()
        return cls.parse(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RuleSettings:
    """What the local rules need from the MODERATION settings (defaults: theirs)."""

    max_links: int = ModerationOptions.max_links
    hold_first_comment: bool = ModerationOptions.hold_first_comment
    blocklist: Blocklist = field(default_factory=Blocklist)

    @classmethod
    def from_options(cls, options: ModerationOptions, blocklist: Blocklist) -> RuleSettings:
        """The rules' part of the MODERATION settings, with the loaded blocklist."""
        return cls(options.max_links, options.hold_first_comment, blocklist)


@dataclass
class RuleOutcome:
    """What the rules found: spam reasons, hold reasons, and whether it needs care."""

    spam: list[str] = field(default_factory=list)
    hold: list[str] = field(default_factory=list)
    needs_care: bool = False


def honeypot(comment: CommentRow, settings: RuleSettings) -> list[str]:
    """People never see the `subject` field; only a bot fills it in."""
    return ["the hidden honeypot field was filled in"] if comment["honeypot"] else []


def blocklisted(comment: CommentRow, settings: RuleSettings) -> list[str]:
    """A blocklisted word in the text, name or website; a blocklisted email or address."""
    blocklist = settings.blocklist
    reasons = []
    text = " ".join(
        (comment["body"] or "", comment["author"] or "", comment["website"] or "")
    ).lower()
    reasons += [f"blocklisted word: {word!r}" for word in blocklist.words if word in text]
    email = (comment["email"] or "").lower()
    if email:
        # The reason names a domain entry but never the address itself: reasons outlive
        # the purge of private details.
        reasons += ["blocklisted email address" for entry in blocklist.emails if email == entry]
        reasons += [
            f"blocklisted email domain: {entry}"
            for entry in blocklist.emails
            if entry.startswith("@") and email.endswith(entry)
        ]
    if comment["ip"] and blocklist.networks:
        try:
            address = ipaddress.ip_address(comment["ip"])
        except ValueError:
            return reasons
        reasons += [
            f"blocklisted address range: {network}"
            for network in blocklist.networks
            if address.version == network.version and address in network
        ]
    return reasons


def too_many_links(comment: CommentRow, settings: RuleSettings) -> list[str]:
    """Link-heavy comments are the commonest spam that slips past filters."""
    count = len(LINK.findall(comment["body"] or ""))
    if count > settings.max_links:
        return [f"{count} links (more than {settings.max_links})"]
    return []


def email_addresses(text: str) -> list[re.Match[str]]:
    """What `EMAIL.findall` finds, in time linear in the text's length.

    After a match, the next one may be glued to it (`me@x.org+you@y.org`), starting
    inside a run: that one start is tried with EMAIL itself; otherwise only run starts.
    """
    found: list[re.Match[str]] = []
    position = 0
    while True:
        glued = EMAIL.match(text, position) if found else None
        match = glued or EMAIL_AT_RUN_START.search(text, position)
        if match is None:
            return found
        found.append(match)
        position = match.end()


def personal_details(comment: CommentRow, settings: RuleSettings) -> list[str]:
    """Someone's phone number or email address must not be published without a look."""
    body = comment["body"] or ""
    own = (comment["email"] or "").lower()
    reasons = []
    addresses = email_addresses(body)
    if any(found.group(0).lower() != own for found in addresses):
        reasons.append("personal details in the text: an email address")
    pieces, position = [], 0
    for found in addresses:
        pieces += [body[position : found.start()], " "]
        position = found.end()
    if PHONE.search("".join(pieces) + body[position:]):
        reasons.append("personal details in the text: a phone number")
    return reasons


def crisis_phrase(text: str) -> str | None:
    """The first words about self-harm or suicide in `text`, or None. The intake asks this
    of every comment as it arrives, so the reader is shown help at once (issue 14)."""
    found = CRISIS.search(text)
    return found.group(0) if found else None


def crisis_language(comment: CommentRow, settings: RuleSettings) -> list[str]:
    """Words about self-harm or suicide: a person should read it first, never a rule."""
    found = crisis_phrase(comment["body"] or "")
    return [f"needs care: crisis language ({found!r})"] if found else []


SPAM_RULES: tuple[Callable[[CommentRow, RuleSettings], list[str]], ...] = (honeypot, blocklisted)
HOLD_RULES: tuple[Callable[[CommentRow, RuleSettings], list[str]], ...] = (
    too_many_links,
    personal_details,
)


def evaluate(comment: CommentRow, settings: RuleSettings, *, known_author: bool) -> RuleOutcome:
    """Run every local rule on one comment.

    `known_author` says whether the commenter's email already has an approved comment;
    it matters only when the settings hold first comments.
    """
    outcome = RuleOutcome()
    for rule in SPAM_RULES:
        outcome.spam += rule(comment, settings)
    for rule in HOLD_RULES:
        outcome.hold += rule(comment, settings)
    care = crisis_language(comment, settings)
    if care:
        outcome.needs_care = True
        outcome.hold = care + outcome.hold
    if settings.hold_first_comment and not known_author:
        outcome.hold.append("first comment from this email address")
    return outcome
