"""The sample blog built into a tmp folder: what a reader sees on each kind of page."""

from __future__ import annotations

import functools
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.support.site import PROJECT_ROOT, read_html

ATOM = "{http://www.w3.org/2005/Atom}"
MAIN_CSS = PROJECT_ROOT / "theme/static/css/main.css"


def article_pages(site: Path) -> list[Path]:
    """Every post's page: /YYYY/MM/slug/index.html."""
    return sorted(site.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/*/index.html"))


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def summary_titles(page: BeautifulSoup) -> list[str]:
    return [h2.get_text(strip=True) for h2 in page.select("main article.summary h2")]


def test_sample_site_has_eight_posts_over_two_years_and_the_named_slugs(sample_site: Path) -> None:
    posts = article_pages(sample_site)
    assert len(posts) >= 8
    years = {int(path.relative_to(sample_site).parts[0]) for path in posts}
    assert max(years) - min(years) >= 2
    slugs = {path.parent.name: path.relative_to(sample_site).parts[:2] for path in posts}
    assert slugs["texting-my-therapist"] == ("2016", "03")
    assert slugs["the-rules-we-settled-on"] == ("2017", "10")
    assert slugs["when-she-went-on-leave"] == ("2016", "08")


def test_home_page_shows_summaries_newest_first_and_paginates(sample_site: Path) -> None:
    total = len(article_pages(sample_site))
    home = read_html(sample_site / "index.html")
    first = summary_titles(home)
    assert len(first) == 5
    assert first[0] == "Three years in"
    for summary in home.select("article.summary"):
        # A summary is the opening of the post and a link to the rest, not the whole post.
        assert summary.select_one(".summary-text p")
        assert summary.find("a", class_="read-more")["href"].startswith("/20")
    older = home.find("a", rel="next")
    assert older["href"] == "/page/2/"
    assert home.find("a", rel="prev") is None

    second = read_html(sample_site / "page/2/index.html")
    assert second.find("a", rel="prev")["href"] == "/"
    rest = summary_titles(second)
    assert len(first) + len(rest) == total
    assert rest[-1] == "The first appointment"
    assert not set(first) & set(rest)


def test_article_shows_title_date_author_category_and_hashtags(sample_site: Path) -> None:
    page = read_html(sample_site / "2016/08/when-she-went-on-leave/index.html")
    post = page.select_one("main article.post")
    assert post.find("h1").get_text() == "When she went on leave"
    time = post.select_one(".byline time")
    assert time["datetime"].startswith("2016-08-22")
    assert time.get_text() == "22 August 2016"
    assert "by Maren" in post.select_one(".byline").get_text()
    category = post.select_one(".byline .category a")
    assert (category.get_text(), category["href"]) == ("Between", "/category/between/")
    tags = {a.get_text(): a["href"] for a in post.select(".tags a[rel=tag]")}
    assert tags == {"#absence": "/tag/absence/", "#endings": "/tag/endings/"}
    assert "six weeks" in post.select_one(".post-content").get_text()


def test_article_description_is_its_opening_quotes_and_all(sample_site: Path) -> None:
    page = read_html(sample_site / "2016/03/texting-my-therapist/index.html")
    description = page.find("meta", attrs={"name": "description"})["content"]
    assert description.startswith("Something new has started.")
    assert '"if something comes up' in description
    assert len(description) <= 160


def test_archives_list_every_post_with_year_and_month_pages(sample_site: Path) -> None:
    posts = article_pages(sample_site)
    archives = read_html(sample_site / "archives/index.html")
    linked = {a["href"] for a in archives.select("main .archive-list a")}
    assert linked == {"/" + str(p.parent.relative_to(sample_site)) + "/" for p in posts}
    assert archives.find("a", string="2016")["href"] == "/2016/"
    assert archives.find("a", string="March 2016")["href"] == "/2016/03/"

    year = read_html(sample_site / "2016/index.html")
    assert year.find("h1").get_text() == "Posts from 2016"
    year_posts = [a.get_text() for a in year.select("main .archive-list a")]
    assert "Texting my therapist" in year_posts
    assert "When she went on leave" in year_posts
    assert "The rules we settled on" not in year_posts
    assert year.find("a", string="March")["href"] == "/2016/03/"

    month = read_html(sample_site / "2016/03/index.html")
    assert month.find("h1").get_text() == "Posts from March 2016"
    assert [a.get_text() for a in month.select("main .archive-list a")] == ["Texting my therapist"]


def test_tag_and_category_pages_list_their_posts(sample_site: Path) -> None:
    tag = read_html(sample_site / "tag/texting/index.html")
    assert tag.find("h1").get_text() == "Posts tagged #texting"
    assert summary_titles(tag) == ["The rules we settled on", "Texting my therapist"]

    category = read_html(sample_site / "category/reading/index.html")
    assert category.find("h1").get_text() == "Posts in Reading"
    assert set(summary_titles(category)) == {"A book about attachment", "Reading my old journals"}

    tags = read_html(sample_site / "tags/index.html")
    assert tags.find("a", string="#texting")["href"] == "/tag/texting/"
    categories = read_html(sample_site / "categories/index.html")
    names = {a.get_text() for a in categories.select("main .term-list a")}
    assert names == {"Sessions", "Between", "Reading"}


def test_atom_feed_has_every_post_and_is_announced(sample_site: Path) -> None:
    feed = ET.parse(sample_site / "feeds/all.atom.xml").getroot()
    titles = [entry.find(f"{ATOM}title").text for entry in feed.iter(f"{ATOM}entry")]
    assert len(titles) == len(article_pages(sample_site))
    assert "The rules we settled on" in titles
    home = read_html(sample_site / "index.html")
    alternate = home.find("link", rel="alternate", type="application/atom+xml")
    assert alternate["href"] == "/feeds/all.atom.xml"


def test_about_page_is_in_the_navigation(sample_site: Path) -> None:
    about = read_html(sample_site / "about/index.html")
    assert about.find("h1").get_text() == "About"
    assert "I'm Maren" in about.select_one("main").get_text()
    nav_link = about.select_one('nav[aria-label="Main"] a[href="/about/"]')
    assert nav_link["aria-current"] == "page"


def test_404_page_exists_with_absolute_links_home(sample_site: Path) -> None:
    page = read_html(sample_site / "404.html")
    assert page.find("h1").get_text() == "Page not found"
    # Served at any missing address, so every link and asset must be an absolute path.
    for element in page.find_all(href=True) + page.find_all(src=True):
        url = element.get("href") or element["src"]
        assert url.startswith(("/", "#", "data:", "http")), element
    assert page.select_one('main a[href="/"]')
    assert "Page not found" not in read_html(sample_site / "index.html").get_text()


def test_every_page_has_lang_viewport_skip_link_landmarks_and_one_h1(sample_site: Path) -> None:
    for path in html_pages(sample_site):
        page = read_html(path)
        where = str(path.relative_to(sample_site))
        assert page.html["lang"] == "en", where
        assert "width=device-width" in page.find("meta", attrs={"name": "viewport"})["content"]
        first_link = page.body.find("a")
        assert first_link["href"] == "#main" and "skip-link" in first_link["class"], where
        mains = page.find_all("main")
        assert len(mains) == 1 and mains[0]["id"] == "main", where
        assert page.body.find("header", recursive=False), where
        assert page.body.find("footer", recursive=False), where
        assert page.find("nav", attrs={"aria-label": "Main"}), where
        assert len(page.find_all("h1")) == 1, where
        assert page.title.get_text(strip=True), where


def css_blocks(css: str) -> tuple[dict[str, str], dict[str, str]]:
    """The custom properties of the light :root and of the dark-mode :root."""
    dark_at = css.index("@media (prefers-color-scheme: dark)")
    light = re.search(r":root\s*{([^}]*)}", css[:dark_at]).group(1)
    dark = re.search(r":root\s*{([^}]*)}", css[dark_at:]).group(1)

    def properties(block: str) -> dict[str, str]:
        return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", block))

    return properties(light), properties(dark)


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_meet_wcag_aa_contrast_in_light_and_dark_mode(scheme: str) -> None:
    light, dark = css_blocks(MAIN_CSS.read_text(encoding="utf-8"))
    colours = light if scheme == "light" else {**light, **dark}
    # The dark scheme must really redefine the palette, not inherit the light one.
    assert {"--bg", "--text", "--link"} <= dark.keys()
    pairs = [
        ("--text", "--bg"),
        ("--muted", "--bg"),
        ("--link", "--bg"),
        ("--link-visited", "--bg"),
        ("--text", "--note-bg"),
        ("--link", "--note-bg"),
        ("--muted", "--surface"),
        ("--bg", "--text"),  # the skip link: page colour on text colour
    ]
    for foreground, background in pairs:
        ratio = contrast(colours[foreground], colours[background])
        assert ratio >= 4.5, f"{scheme}: {foreground} on {background} is {ratio:.2f}:1"


def test_css_has_visible_focus_styles_system_fonts_and_phone_layout() -> None:
    css = MAIN_CSS.read_text(encoding="utf-8")
    focus = re.search(r":focus-visible\s*{([^}]*)}", css).group(1)
    assert re.search(r"outline:\s*\d+px solid", focus)
    assert "@font-face" not in css
    assert re.search(r"@media \(max-width: [\d.]+rem\)", css)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_server(sample_site: Path) -> Iterator[str]:
    """The built sample site over HTTP on a free loopback port; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(sample_site))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.mark.browser
def test_in_a_browser_phone_width_dark_mode_and_keyboard(browser, site_server: str) -> None:
    path = "/2016/03/texting-my-therapist/"
    phone = browser.new_page(viewport={"width": 360, "height": 740}, color_scheme="dark")
    outside: list[str] = []
    phone.on("request", lambda r: None if r.url.startswith(site_server) else outside.append(r.url))
    phone.goto(site_server + path)
    # Nothing wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    dark_bg = phone.evaluate("getComputedStyle(document.body).backgroundColor")
    # The first Tab lands on the skip link, which becomes visible; Enter moves focus to <main>.
    phone.keyboard.press("Tab")
    skip = phone.locator("a.skip-link")
    assert phone.evaluate("document.activeElement.className") == "skip-link"
    assert skip.bounding_box()["y"] >= 0
    outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    phone.keyboard.press("Enter")
    assert phone.evaluate("location.hash") == "#main"
    assert phone.evaluate("document.activeElement.id") == "main"
    phone.close()

    light = browser.new_page(color_scheme="light")
    light.goto(site_server + path)
    light_bg = light.evaluate("getComputedStyle(document.body).backgroundColor")
    light.close()
    assert dark_bg == "rgb(26, 28, 29)"
    assert light_bg == "rgb(251, 250, 247)"
    assert outside == []


@pytest.mark.browser
def test_in_a_browser_reader_follows_the_note_to_the_follow_up_and_back(
    browser, site_server: str
) -> None:
    page = browser.new_page()
    page.goto(site_server + "/")
    page.get_by_role("link", name="Older posts").click()
    page.get_by_role("heading", name="Texting my therapist").get_by_role("link").click()
    note = page.locator("main .update-note")
    assert note.inner_text().startswith("Note added October 2017:")
    note.get_by_role("link", name="The rules we settled on").click()
    page.wait_for_url(site_server + "/2017/10/the-rules-we-settled-on/")
    assert page.get_by_role("heading", level=1).inner_text() == "The rules we settled on"
    page.locator("main .update-note").get_by_role("link", name="Texting my therapist").click()
    page.wait_for_url(site_server + "/2016/03/texting-my-therapist/")
    page.close()


def test_theme_templates_are_plain_ascii() -> None:
    """Typographic marks come as entities (&middot;, &rarr;): a page whose text is all ASCII
    is written out as it is, while a single other character in the theme makes Python
    encode every page of the site character by character (a twentieth of a rebuild of
    1,000 posts with 20 comments each)."""
    for template in sorted((PROJECT_ROOT / "theme" / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert text.isascii(), (template, sorted({c for c in text if not c.isascii()}))
