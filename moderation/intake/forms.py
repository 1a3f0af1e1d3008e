"""The intake's border: turn a request body into checked comment and like fields.

Every refusal is a `Refusal` with the HTTP status and a message a reader can act on;
nothing here touches the inbox, so it is testable alone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from threaded_comments import ID_PATTERN, NOT_IN_XML, website_problem

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPE = "application/json"
MAX_FIELDS = 50

AUTHOR_MAX = 100
EMAIL_MAX = 254
COMMENT_MAX = 10_000

# Deliberately plain: a syntactic check only; whether the address works is not ours to know.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
EMAIL = re.compile(
    r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)


class Refusal(Exception):  # noqa: N818 (a refusal is an answer, not a fault)
    """A request the intake will not take: its HTTP status, a clear message, the field at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class CommentFields:
    """A comment form that passed every field check (targets are checked by the intake)."""

    post: str
    replyto: str | None
    author: str
    email: str
    website: str | None
    comment: str
    honeypot: bool


@dataclass(frozen=True)
class LikeFields:
    """A like: which comment on which post."""

    post: str
    comment: str


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased ('' when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> str:
    """Refuse (415) a body type the intake does not take; returns the media type."""
    kind = media_type(content_type)
    if kind not in (*FORM_TYPES, JSON_TYPE):
        raise Refusal(
            415,
            "Send the form as application/x-www-form-urlencoded, multipart/form-data "
            f"or application/json, not {kind or 'a body without a Content-Type'}.",
        )
    return kind


def check_utf8(body: bytes) -> None:
    """Refuse (400) a form body that is not UTF-8, multipart as urlencoded (no files here)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refusal(400, "The form is not valid UTF-8.") from error


def parse_urlencoded(body: bytes) -> dict[str, str]:
    """Fields of a urlencoded body; the first value wins when a name repeats."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError as error:
        raise Refusal(400, "The form is not valid UTF-8.") from error
    except ValueError as error:
        raise Refusal(400, f"The form has more than {MAX_FIELDS} fields.") from error
    return first_values(pairs)


def parse_json(body: bytes) -> dict[str, str]:
    """Fields of a JSON object body: strings (or null for an empty field) only."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise Refusal(400, "The body is not valid JSON.") from error
    except RecursionError as error:
        raise Refusal(400, "The JSON body is nested too deeply.") from error
    if not isinstance(data, dict):
        raise Refusal(400, "The JSON body must be an object of fields.")
    if len(data) > MAX_FIELDS:
        raise Refusal(400, f"The form has more than {MAX_FIELDS} fields.")
    fields: dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise Refusal(422, f"The field {name!r} must be text.", name)
        if not is_unicode(name) or not is_unicode(value):
            # A lone surrogate (`"\\ud800"`) is valid JSON but no text SQLite can store.
            raise Refusal(400, "The JSON body holds a lone surrogate: it is not valid Unicode.")
        fields[name] = value
    return fields


def is_unicode(text: str) -> bool:
    """False if `text` holds a lone surrogate, which no UTF-8 file or database can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Collapse (name, value) pairs to a dict, keeping the first value of each name."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def check_comment_form(fields: Mapping[str, str]) -> CommentFields:
    """Check a comment form's fields against the limits in DESIGN.md; Refusal(422) if not."""
    website = fields.get("website", "").strip()
    replyto = fields.get("replyto", "").strip()
    form = CommentFields(
        post=identifier(fields, "post", "post"),
        replyto=identifier(fields, "replyto", "comment to reply to") if replyto else None,
        author=author_name(fields.get("author", "")),
        email=email_address(fields.get("email", "")),
        website=website_url(website) if website else None,
        comment=comment_text(fields.get("comment", "")),
        # The honeypot is hidden from people; anything typed into it came from a bot.
        honeypot=bool(fields.get("subject", "").strip()),
    )
    # What the feeds would carry: a character XML cannot hold would make them invalid
    # (the plugin's rule; each field's own check has refused control characters first).
    for name in ("author", "email", "website", "comment"):
        if NOT_IN_XML.search(getattr(form, name) or ""):
            raise Refusal(
                422, f"The field {name!r} holds a character that cannot be published.", name
            )
    return form


def check_like_form(fields: Mapping[str, str]) -> LikeFields:
    """Check a like's fields: a post slug and a comment id."""
    return LikeFields(
        post=identifier(fields, "post", "post"), comment=identifier(fields, "comment", "comment")
    )


def identifier(fields: Mapping[str, str], name: str, what: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise Refusal(422, f"Say which {what} this is for (the {name!r} field is empty).", name)
    if not ID_PATTERN.fullmatch(value):
        raise Refusal(422, f"{value[:40]!r} is not a valid {what}.", name)
    return value


def author_name(value: str) -> str:
    # One spelling of each name, with no invisible characters (zero-width spaces, a
    # right-to-left override) to hide as nothing or to turn the text around it.
    name = "".join(
        character
        for character in unicodedata.normalize("NFC", value)
        if unicodedata.category(character) != "Cf"
    ).strip()
    if not name:
        raise Refusal(422, "Please give a name (it is shown with your comment).", "author")
    if len(name) > AUTHOR_MAX:
        raise Refusal(422, f"The name is longer than {AUTHOR_MAX} characters.", "author")
    if has_control_characters(name):
        raise Refusal(422, "The name contains control characters.", "author")
    return name


def email_address(value: str) -> str:
    address = value.strip()
    if not address:
        raise Refusal(422, "Please give an email address (it is never published).", "email")
    if len(address) > EMAIL_MAX or has_control_characters(address) or not EMAIL.fullmatch(address):
        raise Refusal(422, f"{address[:60]!r} is not a valid email address.", "email")
    return address


def website_url(value: str) -> str:
    # The one website rule (the comment file's), so whatever is accepted here builds.
    problem = website_problem(value)
    if problem:
        raise Refusal(422, f"The website address {problem}.", "website")
    return value


def comment_text(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise Refusal(422, "The comment is empty.", "comment")
    if len(text) > COMMENT_MAX:
        raise Refusal(
            422,
            f"The comment is {len(text):,} characters long; the limit is {COMMENT_MAX:,}.",
            "comment",
        )
    if has_control_characters(text, allowed="\n\t"):
        raise Refusal(422, "The comment contains control characters.", "comment")
    return text


def has_control_characters(text: str, allowed: str = "") -> bool:
    """True if `text` holds control characters (NUL and friends) other than `allowed`."""
    return any(character not in allowed for character in CONTROL.findall(text))
