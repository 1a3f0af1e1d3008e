"""Threat: a comment written to make the local rules' patterns slow stalls `invoke moderate`
for everyone (issue 12, item 2). Each rule must run in time linear in the text's length;
the time itself is measured in benchmarks/rules_adversarial.py (CPU beside wall time), so
these tests check that on 64 KiB adversarial bodies the rules still find what they must.
"""

from __future__ import annotations

import pytest

from moderation.pipeline import rules
from tests.support.moderation import add_pending, run_pipeline, status_of

SIZE = 64 * 1024
OWN = "wren@example.org"


def padded(shape: str, tail: str) -> str:
    """`shape` repeated to 64 KiB, then a space and `tail`: what the rule must still find."""
    return (shape * (SIZE // len(shape)))[:SIZE] + " " + tail


def comment(body: str) -> dict[str, object]:
    return {
        "body": body,
        "email": OWN,
        "author": "Wren",
        "website": None,
        "honeypot": 0,
        "ip": None,
    }


@pytest.mark.parametrize("shape", ["a", "a.", "www.", "a@b", "-a", "@a", "a.b@"])
def test_an_address_after_a_long_run_is_still_found(shape):
    reasons = rules.personal_details(
        comment(padded(shape, "write to sam@example.net")), rules.RuleSettings()
    )
    assert "personal details in the text: an email address" in reasons


def test_an_address_glued_after_the_writers_own_is_still_found():
    body = padded("a", f"{OWN}+sam@example.net")
    assert rules.personal_details(comment(body), rules.RuleSettings()) == [
        "personal details in the text: an email address"
    ]


@pytest.mark.parametrize("shape", ["1 ", "(1", "+1", "1-", "1.("])
def test_a_phone_number_after_a_long_run_of_digits_is_still_found(shape):
    body = padded(shape, "call me: 0612345678")
    assert "personal details in the text: a phone number" in rules.personal_details(
        comment(body), rules.RuleSettings()
    )


def test_links_and_crisis_words_after_a_long_run_are_still_found():
    body = padded("www.", "https://a.example https://b.example https://c.example")
    assert rules.too_many_links(comment(body), rules.RuleSettings(max_links=2))
    care = rules.crisis_language(comment(padded("kill ", "I want to die")), rules.RuleSettings())
    assert care == ["needs care: crisis language ('want to die')"]


def test_moderate_holds_adversarial_comments_for_their_contact_details(connection, project):
    held = add_pending(connection, padded("a.", "text me at sam@example.net"))
    care = add_pending(connection, padded("1 ", "some nights I want to die"))

    code, output = run_pipeline(project, no_input=True)

    assert code == 0, output
    assert status_of(connection, held) == status_of(connection, care) == "held"
    assert "an email address" in output
