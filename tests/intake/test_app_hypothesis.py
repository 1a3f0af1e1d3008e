"""Whatever a client sends, the intake answers with a success or a 4xx: never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.intake import OPEN_POST, running_intake, valid_comment

FIELD_NAMES = ["post", "replyto", "author", "email", "website", "comment", "subject", "token"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
]
ACCEPTABLE = {200, 202, 303}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)
# Mostly near-valid forms, so the checks past parsing get exercised too.
field_values = st.one_of(
    st.text(max_size=300),
    st.sampled_from([OPEN_POST, "c001", "c100", "wren@example.org", "https://example.org"]),
)
forms = st.fixed_dictionaries(
    {},
    optional={name: field_values for name in FIELD_NAMES},
).map(lambda fields: {**valid_comment(), **fields})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder: Path = tmp_path_factory.mktemp("intake-hypothesis")
    with (
        running_intake(folder, comment_rate_limit=None, like_rate_limit=None) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def assert_clean(response: httpx.Response) -> None:
    assert response.status_code in ACCEPTABLE or 400 <= response.status_code < 500, (
        response.status_code,
        response.text[:500],
    )
    assert "Traceback" not in response.text


PATHS = st.sampled_from(["/api/comments", "/api/likes", "/api/comments/c001/remove"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=PATHS, content_type=st.sampled_from(CONTENT_TYPES), body=st.binary(max_size=2000))
def test_any_bytes_with_any_content_type(client, path, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    assert_clean(client.post(path, content=body, headers=headers))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=PATHS, fields=forms, as_json=st.booleans())
def test_any_form_fields(client, path, fields, as_json):
    if as_json:
        assert_clean(client.post(path, json=fields))
    else:
        assert_clean(client.post(path, data=fields, follow_redirects=False))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=PATHS, document=json_values)
def test_any_json_document(client, path, document):
    body = json.dumps(document).encode()
    assert_clean(client.post(path, content=body, headers={"Content-Type": "application/json"}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(["post", "token", "x"]), st.text(max_size=80)))
def test_any_query_on_the_get_endpoints(client, query):
    for path in ("/api/likes", "/api/comments/c001/remove", "/api/comments/receipt"):
        assert_clean(client.get(path, params=query))
