"""What a reader is shown at once when her comment's words need care (issue 14).

The intake asks the pipeline's own crisis-language rule (`rules.crisis_phrase`) about every
comment as it arrives. When it matches, the answer carries, above the usual "awaiting
moderation" notice, a calm note with the author's support resources (CARE["RESOURCES"]):
in the JSON for comment-intake.js, and on the intake's page that a form post without
JavaScript is sent to. The comment itself is held, as every comment is.

The wording is the same in both places, defined once here. It speaks to whoever wrote
the comment, without saying what a program thinks of her words: it is an offer, not a
diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from moderation.pipeline.rules import crisis_phrase
from moderation.settings import CareOptions

CARE_TITLE = "You don’t have to wait for a reply"
CARE_TEXT = (
    "Thank you for writing. Every comment here is read by a person before it appears, "
    "so it may be a while before you see yours. If things are hard right now, you can "
    "talk to someone today:"
)
# The beginning of the sample helpline's name in pelicanconf.py: still there means unset.
HELPLINE_PLACEHOLDER = "NATIONAL HELPLINE"


def needs_care(text: str) -> bool:
    """Whether a comment's words match the pipeline's crisis-language rule."""
    return crisis_phrase(text) is not None


def telephone_link(phone: str) -> str:
    """A tel: URI for a number as people write it (spaces, dashes and brackets dropped)."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are offered; anything else in the settings is left out."""
    return url if url and url.startswith(("https://", "http://")) else None


def care_answer(options: CareOptions) -> dict[str, Any]:
    """The note for the JSON answer: title, text and resources (name, phone, url)."""
    return {
        "title": CARE_TITLE,
        "text": CARE_TEXT,
        "resources": [
            {
                "name": entry["name"],
                "phone": entry.get("phone") or None,
                "url": safe_url(entry.get("url")),
            }
            for entry in options.resources
            # An unset sample helpline is no help to a reader: the start-up names it instead.
            if not is_placeholder(entry)
        ],
    }


def resource_html(entry: Mapping[str, str | None]) -> str:
    parts = [f"<strong>{escape(entry['name'] or '')}</strong>"]
    if entry.get("phone"):
        phone = entry["phone"] or ""
        parts.append(f'<a href="{escape(telephone_link(phone))}">{escape(phone)}</a>')
    if entry.get("url"):
        url = entry["url"] or ""
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
    return "<li>" + " ".join(parts) + "</li>"


def care_html(options: CareOptions) -> str:
    """The note as HTML, for the intake's page after a form post."""
    answer = care_answer(options)
    items = "".join(resource_html(entry) for entry in answer["resources"])
    return (
        '<section class="comment-care" role="note" aria-labelledby="comment-care-title">'
        f'<h2 id="comment-care-title">{escape(answer["title"])}</h2>'
        f"<p>{escape(answer['text'])}</p><ul>{items}</ul></section>"
    )


def is_placeholder(entry: Mapping[str, str]) -> bool:
    """Whether a resource is the sample's helpline placeholder, not yet set by the author."""
    return entry["name"].startswith(HELPLINE_PLACEHOLDER)


def placeholder_left(options: CareOptions) -> bool:
    """Whether the sample's helpline placeholder is still among the resources."""
    return any(is_placeholder(entry) for entry in options.resources)
