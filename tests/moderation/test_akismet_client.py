"""The real `akismet` client, pointed at the stand-in through AKISMET_API_URL."""

from __future__ import annotations

import akismet
import pytest

from moderation.pipeline.akismet_client import (
    AkismetSettings,
    check_comments,
    client,
    submit_correction,
)
from moderation.settings import ModerationOptions
from tests.support.akismet_standin import BLOG_URL, VALID_KEY, AkismetStandIn

ROW = {
    "id": "c1",
    "post_slug": "texting-my-therapist",
    "parent_id": None,
    "author": "Juniper",
    "email": "juniper@example.org",
    "website": "https://juniper.example.net",
    "body": "Thank you for this.",
    "ip": "198.51.100.7",
    "user_agent": "Mozilla/5.0 (TestBrowser 1.0)",
    "referrer": "http://127.0.0.1:8000/2016/03/texting-my-therapist/",
    "permalink": "/2016/03/texting-my-therapist/",
    "created_at": "2026-01-02T03:04:05+00:00",
}


@pytest.fixture
def standin():
    with AkismetStandIn() as server:
        yield server


def settings_for(server: AkismetStandIn, **changes) -> AkismetSettings:
    options = ModerationOptions(akismet_retries=2, akismet_backoff=0.01)
    settings = AkismetSettings.from_environment(options, "en", server.environment())
    return AkismetSettings(**{**settings.__dict__, **changes})


def check(settings: AkismetSettings, rows: list[dict]) -> dict:
    with client(settings) as verified:
        return check_comments(
            verified, settings, rows, {"texting-my-therapist": "2017-10-09T00:00:00+00:00"}
        )


def test_no_key_or_no_blog_url_means_not_configured():
    options = ModerationOptions()
    assert AkismetSettings.from_environment(options, "en", {}) is None
    assert AkismetSettings.from_environment(options, "en", {"PYTHON_AKISMET_API_KEY": "k"}) is None
    settings = AkismetSettings.from_environment(
        options, "en", {"PYTHON_AKISMET_API_KEY": "k", "PYTHON_AKISMET_BLOG_URL": BLOG_URL}
    )
    assert settings.api_url == "https://rest.akismet.com" and not settings.is_test
    assert settings.timeout == options.akismet_timeout


def test_every_request_goes_to_the_api_url_with_the_full_context(standin):
    reply = {**ROW, "id": "c2", "parent_id": "c1"}
    results = check(settings_for(standin), [ROW, reply])
    assert {r.verdict for r in results.values()} == {akismet.CheckResponse.HAM}
    assert standin.requests[0].endpoint == "verify-key"
    first, second = standin.calls("comment-check")
    sent = first.form if first.form["comment_type"] == "comment" else second.form
    assert sent == {
        "api_key": VALID_KEY,
        "blog": BLOG_URL,
        "user_ip": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (TestBrowser 1.0)",
        "referrer": "http://127.0.0.1:8000/2016/03/texting-my-therapist/",
        "permalink": "http://127.0.0.1:8000/2016/03/texting-my-therapist/",
        "comment_type": "comment",
        "comment_author": "Juniper",
        "comment_author_email": "juniper@example.org",
        "comment_author_url": "https://juniper.example.net",
        "comment_content": "Thank you for this.",
        "comment_date_gmt": "2026-01-02T03:04:05+00:00",
        "comment_post_modified_gmt": "2017-10-09T00:00:00+00:00",
        "blog_lang": "en",
        "blog_charset": "UTF-8",
        "honeypot_field_name": "subject",
        "is_test": "true",
    }
    assert {first.form["comment_type"], second.form["comment_type"]} == {"comment", "reply"}
    # The transport rewrote the host, so the request's Host header names the stand-in.
    assert first.headers["Host"] == standin.url.removeprefix("http://")


def test_the_documented_test_values_give_each_verdict(standin):
    rows = [
        {**ROW, "id": "ham"},
        {**ROW, "id": "spam", "author": "akismet-guaranteed-spam"},
        {**ROW, "id": "discard", "author": "akismet-guaranteed-spam", "body": "[blatant] buy"},
    ]
    results = check(settings_for(standin), rows)
    assert {key: r.verdict for key, r in results.items()} == {
        "ham": akismet.CheckResponse.HAM,
        "spam": akismet.CheckResponse.SPAM,
        "discard": akismet.CheckResponse.DISCARD,
    }


def test_an_invalid_key_raises_before_any_check(standin):
    with pytest.raises(akismet.APIKeyError):
        check(settings_for(standin, key="not-a-key"), [ROW])
    assert standin.calls("comment-check") == []


def test_a_503_is_retried_and_then_answered(standin):
    standin.fail_next = 2
    results = check(settings_for(standin), [ROW])
    assert results["c1"].verdict is akismet.CheckResponse.HAM
    assert len(standin.requests) == 4  # verify-key failed twice, then verify, then check


def test_akismet_down_gives_an_error_result_after_the_retries(standin):
    settings = settings_for(standin)
    with client(settings) as verified:
        standin.fail_always = True
        result = check_comments(verified, settings, [ROW], {})["c1"]
    assert result.verdict is None and "503" in result.error
    assert len(standin.calls("comment-check")) == 3  # the first try and two retries


def test_after_one_comment_fails_for_good_the_rest_are_not_asked(standin):
    settings = settings_for(standin, concurrency=1)
    rows = [{**ROW, "id": f"c{n}"} for n in range(5)]
    with client(settings) as verified:
        standin.fail_always = True
        results = check_comments(verified, settings, rows, {})
    assert all(result.verdict is None and result.error for result in results.values())
    assert len(standin.calls("comment-check")) == 3


def test_a_slow_answer_times_out_and_counts_as_unreachable(standin):
    standin.delay = 0.5
    settings = settings_for(standin, timeout=0.1, retries=1)
    with pytest.raises(akismet.RequestError, match="timed out"):
        check(settings, [ROW])


def test_corrections_send_submit_ham_and_submit_spam(standin):
    settings = settings_for(standin)
    with client(settings, verify=False) as unverified:
        submit_correction(unverified, settings, ROW, None, spam=False)
        submit_correction(unverified, settings, ROW, None, spam=True)
    assert [r.endpoint for r in standin.requests] == ["submit-ham", "submit-spam"]
    assert standin.requests[0].form["comment_content"] == "Thank you for this."


def test_the_stand_in_answers_ham_for_an_administrator(standin):
    with client(settings_for(standin)) as verified:
        verdict = verified.comment_check(
            user_ip="127.0.0.1", comment_author="akismet-guaranteed-spam", user_role="administrator"
        )
    assert verdict is akismet.CheckResponse.HAM
