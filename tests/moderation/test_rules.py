"""The local rules, one by one, on comments as the inbox stores them."""

from __future__ import annotations

import pytest

from moderation.pipeline import rules

# The rules without HOLD_FIRST_COMMENT (on by default): each test below is about one rule.
RULES = rules.RuleSettings(hold_first_comment=False)


def comment(body: str = "Thank you for writing this.", **fields: object) -> dict:
    values = {
        "body": body,
        "author": "Juniper",
        "email": "juniper@example.org",
        "website": None,
        "ip": "198.51.100.7",
        "honeypot": 0,
    }
    values.update(fields)
    return values


def evaluate(c: dict, settings: rules.RuleSettings = RULES, known: bool = True):
    return rules.evaluate(c, settings, known_author=known)


def test_a_plain_kind_comment_passes_every_rule():
    outcome = evaluate(comment("I read this twice. The part about waiting rang true for me."))
    assert outcome.spam == [] and outcome.hold == [] and not outcome.needs_care


def test_a_filled_honeypot_is_spam():
    assert evaluate(comment(honeypot=1)).spam == ["the hidden honeypot field was filled in"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"body": "Cheap PILLS here"}, "blocklisted word: 'cheap pills'"),
        ({"email": "Bot@Spam.example"}, "blocklisted email address"),
        ({"email": "anyone@junk.example"}, "blocklisted email domain: @junk.example"),
        ({"ip": "203.0.113.77"}, "blocklisted address range: 203.0.113.0/24"),
        ({"ip": "2001:db8::5"}, "blocklisted address range: 2001:db8::/32"),
    ],
)
def test_a_blocklist_match_is_spam(fields, reason):
    blocklist = rules.Blocklist.parse(
        "# words, emails and address ranges\n"
        "cheap pills\nbot@spam.example\n@junk.example\n"
        "203.0.113.0/24  # a known spammer's range\n2001:db8::/32\n"
    )
    settings = rules.RuleSettings(blocklist=blocklist)
    assert evaluate(comment(**fields), settings).spam == [reason]
    assert evaluate(comment(), settings).spam == []


def test_more_links_than_allowed_are_held():
    two = "See https://a.example/one and www.b.example"
    three = two + " and [this](http://c.example/x)"
    assert evaluate(comment(two)).hold == []
    assert evaluate(comment(three)).hold == ["3 links (more than 2)"]
    assert evaluate(comment(two), rules.RuleSettings(max_links=1)).hold == ["2 links (more than 1)"]


def test_someone_elses_email_in_the_text_is_held():
    outcome = evaluate(comment("You could write to her at rowan.k@example.net, she helped me."))
    assert outcome.hold == ["personal details in the text: an email address"]
    own = evaluate(comment("Write to me at juniper@example.org if you like."))
    assert own.hold == []


@pytest.mark.parametrize("number", ["07700 900123", "+44 7700 900 123", "(555) 010-4477"])
def test_a_phone_number_in_the_text_is_held(number):
    outcome = evaluate(comment(f"My old therapist's number is {number}."))
    assert outcome.hold == ["personal details in the text: a phone number"]


def test_dates_and_years_are_not_phone_numbers():
    outcome = evaluate(comment("I started on 2016-03-14 and stopped in 2017, then 2019."))
    assert outcome.hold == []


@pytest.mark.parametrize(
    "body",
    [
        "Some nights I think about suicide.",
        "I have been self-harming again.",
        "I just want to die.",
        "i don't want to be here anymore",
    ],
)
def test_crisis_language_is_held_as_needs_care(body):
    outcome = evaluate(comment(body))
    assert outcome.needs_care
    assert outcome.hold[0].startswith("needs care: crisis language")
    assert outcome.spam == []


def test_a_first_comment_from_a_new_email_is_held_only_when_the_setting_asks():
    asking = rules.RuleSettings(hold_first_comment=True)
    assert evaluate(comment(), asking, known=False).hold == [
        "first comment from this email address"
    ]
    assert evaluate(comment(), asking, known=True).hold == []
    assert evaluate(comment(), RULES, known=False).hold == []


def test_a_missing_blocklist_file_blocks_nothing(tmp_path):
    assert rules.Blocklist.load(tmp_path / "absent.txt") == rules.Blocklist()
