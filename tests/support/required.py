"""What the tests need from the machine: a browser, web servers, tools. Missing on a
developer's machine, the tests that need it are skipped with a loud reason; under CI
(CI=true) they fail, since a skip there would pass what never ran."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(tests: str, message: str) -> NoReturn:
    """Skip loudly (`tests` names them: "BROWSER TESTS", "DEPLOY TEST", ...), or fail under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(f"{tests} SKIPPED: {message}")
