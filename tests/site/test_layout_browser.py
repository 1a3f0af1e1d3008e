"""What a reader sees, in Chromium: the post, the no-JavaScript reply form and the intake's
own pages, in light and dark, at phone and desktop width. Each is a screenshot (kept in the
test's tmp folder) and a layout check: the site header is there, the page wears the
stylesheet, the text column is centred and nothing runs off the side, and every form field
spans its form."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.support.intake import copy_project, invoke_serve

pytestmark = pytest.mark.browser

POST_URL = "/2016/03/texting-my-therapist/"
REPLY_TO = "20160315071204-3f9a1c2e"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# main.css's --bg: how a test knows the stylesheet and the colour scheme took effect.
BACKGROUNDS = {"light": "rgb(251, 250, 247)", "dark": "rgb(26, 28, 29)"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`invoke serve` in a tmp copy of the project; yields its URL."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    env = {key: value for key, value in os.environ.items() if key != "COMMENT_INTAKE_INBOX"}
    with invoke_serve(root, env, timeout=180) as url:
        yield url


def open_post(page, site: str) -> None:
    page.goto(site + POST_URL)


def open_reply_form(page, site: str) -> None:
    page.goto(f"{site}{POST_URL}?replyto={REPLY_TO}#reply-{REPLY_TO}")


def open_error_page(page, site: str) -> None:
    """A removal link cut short: the intake's error page, as a refused comment gets it."""
    page.goto(site + "/api/comments/c1/remove")


def open_removal_page(page, site: str) -> None:
    page.goto(site + "/api/comments/c1/remove?token=" + "t" * 32)


def open_receipt_page(page, site: str) -> None:
    """The once-only page with the private removal link, after a comment without JavaScript."""
    open_post(page, site)
    form = page.locator("#commentform")
    form.locator("input[name=author]").fill("Tamsin")
    form.locator("input[name=email]").fill("tamsin@example.org")
    form.locator("textarea[name=comment]").fill("Reading this on a grey morning helped a bit.")
    form.get_by_role("button", name="Post Comment").click()
    page.wait_for_url(f"**{POST_URL}#comment-pending")
    page.locator("#comment-pending").get_by_role("link", name="private link").click()
    page.wait_for_url("**/api/comments/receipt")


PAGES = {
    "post": (open_post, "#commentform"),
    "reply-form-no-js": (open_reply_form, f"#reply-{REPLY_TO} form"),
    "intake-error": (open_error_page, None),
    "intake-removal": (open_removal_page, None),
    "intake-receipt": (open_receipt_page, None),
}

LAYOUT = """(formSelector) => {
  const main = document.querySelector("main");
  const box = main.getBoundingClientRect();
  const fields = [];
  if (formSelector) {
    const form = document.querySelector(formSelector);
    const inner = form.getBoundingClientRect();
    for (const field of form.querySelectorAll("input, textarea")) {
      const rect = field.getBoundingClientRect();
      if (field.type === "hidden" || field.type === "checkbox" || rect.width === 0
          || field.closest("[aria-hidden=true]")) continue;
      const type = field.tagName === "TEXTAREA" ? "textarea" : field.getAttribute("type");
      fields.push({name: field.name, type, font: getComputedStyle(field).fontFamily,
                   width: rect.width, formWidth: inner.width});
    }
  }
  return {
    left: box.left, right: window.innerWidth - box.right, width: box.width,
    viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    background: getComputedStyle(document.body).backgroundColor,
    headerFont: getComputedStyle(document.querySelector(".site-header")).fontFamily,
    buttonFonts: [...document.querySelectorAll("main button")].map(
      (button) => getComputedStyle(button).fontFamily),
    fields,
  };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_layout(browser, site, tmp_path: Path, name: str, width: str, scheme: str) -> None:
    opener, form_selector = PAGES[name]
    context = browser.new_context(
        viewport=VIEWPORTS[width], color_scheme=scheme, java_script_enabled=False
    )
    page = context.new_page()
    opener(page, site)

    screenshot = tmp_path / f"{name}-{width}-{scheme}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    title = page.locator("header.site-header .site-title a")
    assert title.is_visible()
    assert title.inner_text() == "Between Sessions"
    assert page.locator("header.site-header nav").get_by_role("link", name="Archives").is_visible()

    layout = page.evaluate(LAYOUT, form_selector)
    assert layout["background"] == BACKGROUNDS[scheme]
    assert layout["scrollWidth"] <= layout["viewport"], "something runs off the side"
    assert abs(layout["left"] - layout["right"]) <= 1, "the text column is not centred"
    if width == "desktop":
        assert layout["width"] < layout["viewport"] * 0.6, "no text column"
    assert set(layout["buttonFonts"]) <= {layout["headerFont"]}
    if name == "intake-removal":
        assert page.get_by_role("button", name="Remove my comment").is_visible()
    if form_selector:
        assert layout["fields"], "the form shows no fields"
        for field in layout["fields"]:
            assert field["type"], f"{field['name']} has no type"
            # One family for the interface: fields as the header and buttons.
            assert field["font"] == layout["headerFont"], field["name"]
            assert field["width"] >= field["formWidth"] * 0.9, (
                f"{field['name']} is {field['width']:.0f}px in a {field['formWidth']:.0f}px form"
            )
    context.close()


def test_the_intake_pages_link_to_the_site_not_to_the_request_host(site) -> None:
    """Asked under another Host name, the intake's page still links where the build said."""
    answer = httpx.get(site + "/api/comments/c1/remove", headers={"Host": "evil.example"})
    assert answer.status_code == 400
    page = BeautifulSoup(answer.text, "html.parser")
    links = [a["href"] for a in page.find_all("a")] + [
        link["href"] for link in page.find_all("link")
    ]
    assert page.find("link", rel="stylesheet")["href"] == "/theme/css/main.css"
    assert page.select_one("header.site-header .site-title a")["href"] == "/"
    assert links and not any("evil.example" in link for link in links)
    assert page.title.get_text() == "Your comment was not sent · Between Sessions"
    assert "no token" in page.find(attrs={"role": "alert"}).get_text()
