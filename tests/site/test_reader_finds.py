"""What readers coming from WordPress look for in the built site: previous and next post,
sitemap.xml and robots.txt, an RSS feed beside the Atom one, a search index, avatars made
on the site (never from an email), the intake's page shell, and the theme's own words with
typographic quotes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from identicons import identicon_svg

from tests.support.site import PROJECT_ROOT, read_html, run_pelican

POST_URL = "2016/03/texting-my-therapist/index.html"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_a_post_links_its_previous_and_next_posts(sample_site: Path) -> None:
    page = read_html(sample_site / POST_URL)
    nav = page.find("nav", attrs={"aria-label": "Previous and next posts"})
    older = nav.find("a", rel="prev")
    newer = nav.find("a", rel="next")
    assert "Previous post" in nav.get_text()
    assert (sample_site / older["href"].strip("/") / "index.html").exists()
    assert (sample_site / newer["href"].strip("/") / "index.html").exists()
    older_page = read_html(sample_site / older["href"].strip("/") / "index.html")
    assert (
        older_page.find("nav", attrs={"aria-label": "Previous and next posts"}).find(
            "a", rel="next"
        )["href"]
        == "/2016/03/texting-my-therapist/"
    )


def test_the_oldest_and_newest_posts_have_one_neighbour(sample_site: Path) -> None:
    archives = read_html(sample_site / "archives/index.html")
    dated = sorted(
        (time["datetime"], time.find_next("a")["href"])
        for time in archives.select(".archive-list time")
    )
    oldest, newest = dated[0][1], dated[-1][1]
    for url, present, absent in ((oldest, "next", "prev"), (newest, "prev", "next")):
        nav = read_html(sample_site / url.strip("/") / "index.html").find(
            "nav", attrs={"aria-label": "Previous and next posts"}
        )
        assert nav.find("a", rel=present) and not nav.find("a", rel=absent)


def test_sitemap_lists_every_post_and_page_but_not_the_intake_shell(sample_site: Path) -> None:
    urls = {
        loc.text for loc in ET.parse(sample_site / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")
    }
    assert "/2016/03/texting-my-therapist/" in urls
    assert "/about/" in urls
    assert not any("intake-page" in url or "robots" in url or "404" in url for url in urls)


def test_sitemap_changes_only_when_the_site_does(sample_site: Path, tmp_path: Path) -> None:
    # pelican-sitemap alone stamps list pages with the build's clock, so every deploy resent it.
    again = tmp_path / "output"
    result = run_pelican(PROJECT_ROOT / "content", again)
    assert result.returncode == 0, result.stderr
    assert (again / "sitemap.xml").read_bytes() == (sample_site / "sitemap.xml").read_bytes()

    entries = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in ET.parse(again / "sitemap.xml").getroot().iter(f"{SITEMAP}url")
    }
    newest_post = max(
        time["datetime"]
        for time in read_html(again / "archives/index.html").select(".archive-list time")
    )
    # The index changes when a post does: it carries the newest post's day.
    assert entries["/"][:10] == newest_post[:10]


def test_robots_txt_keeps_crawlers_out_of_the_intake_and_names_the_sitemap(tmp_path) -> None:
    output = tmp_path / "output"
    result = run_pelican(PROJECT_ROOT / "content", output, 'SITEURL="https://blog.example.org"')
    assert result.returncode == 0, result.stderr
    robots = (output / "robots.txt").read_text()
    assert "User-agent: *" in robots and "Disallow: /api/" in robots
    assert "Sitemap: https://blog.example.org/sitemap.xml" in robots
    assert (
        "<loc>https://blog.example.org/2016/03/texting-my-therapist/</loc>"
        in (output / "sitemap.xml").read_text()
    )


def test_rss_feed_beside_the_atom_one(sample_site: Path) -> None:
    rss = ET.parse(sample_site / "feeds/all.rss.xml").getroot()
    assert rss.tag == "rss"
    titles = [item.findtext("title") for item in rss.iter("item")]
    assert "Texting my therapist" in titles
    page = read_html(sample_site / "index.html")
    assert page.find("link", type="application/rss+xml")["href"] == "/feeds/all.rss.xml"
    assert page.find("link", type="application/atom+xml")["href"] == "/feeds/all.atom.xml"
    footer = page.find("footer", class_="site-footer")
    assert footer.find("a", string="RSS feed")["href"] == "/feeds/all.rss.xml"


def test_search_index_holds_every_post_and_page_with_its_words(sample_site: Path) -> None:
    entries = json.loads((sample_site / "search.json").read_text())["entries"]
    by_url = {entry["url"]: entry for entry in entries}
    post = by_url["2016/03/texting-my-therapist/"]
    assert post["title"] == "Texting my therapist"
    assert post["date"] == "2016-03-14"
    assert "<" not in post["text"] and "boundaries" in post["text"]  # a tag of the post
    assert "about/" in by_url
    assert not any("not-found" in url or url.endswith("404.html") for url in by_url)
    # Without JavaScript the search box is a plain form that opens the archives.
    form = read_html(sample_site / "archives/index.html").find("form", role="search")
    assert form["action"] == "/archives/" and form["method"] == "get"
    assert form["data-index"] == "/search.json"


def test_avatars_are_local_pictures_from_the_name_never_the_email(sample_site: Path) -> None:
    page = read_html(sample_site / POST_URL)
    avatars = page.select("article.comment svg.comment-avatar")
    assert len(avatars) == len(page.select("article.comment"))
    assert all(svg["aria-hidden"] == "true" for svg in avatars)  # the name is beside it
    by_author: dict[str, set[str]] = {}
    for svg in avatars:
        name = svg.find_next(class_="comment-author-name").get_text()
        by_author.setdefault(name, set()).add(str(svg))
    assert all(len(pictures) == 1 for pictures in by_author.values())
    assert len({next(iter(p)) for p in by_author.values()}) == len(by_author)
    # Nothing in a picture reaches off the site: no link, image or URL of any kind.
    assert not any(svg.find(["image", "use", "a"]) or "url(" in str(svg) for svg in avatars)


def test_an_identicon_depends_on_the_name_and_the_site_secret_only() -> None:
    assert identicon_svg("Juniper", "a") == identicon_svg("  juniper ", "a")
    assert identicon_svg("Juniper", "a") != identicon_svg("Juniper", "b")
    assert identicon_svg("Juniper", "a") != identicon_svg("Ash", "a")


def test_the_intake_page_shell_is_built_with_the_site_header(sample_site: Path) -> None:
    page = read_html(sample_site / "intake-page.html")
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert page.select_one("header.site-header .site-title a").get_text() == "Between Sessions"
    text = (sample_site / "intake-page.html").read_text()
    assert text.count("<!--intake:title-->") == 2 and "<!--intake:body-->" in text


def test_the_theme_uses_typographic_quotes_in_its_own_words(sample_site: Path) -> None:
    """The theme's text (not what posts and comments say) has no straight quotes."""
    page = read_html(sample_site / POST_URL)
    for selector in ("article.comment", ".post-content", "script", "style"):
        for element in page.select(selector):
            element.decompose()
    words = page.get_text(" ")
    assert not re.search(r"[A-Za-z]'[A-Za-z]|\"", words), re.findall(r".{20}['\"].{20}", words)


def test_an_identicon_is_a_left_right_symmetric_picture_on_a_five_by_five_grid() -> None:
    for number in range(50):
        svg = identicon_svg(f"Reader {number}", "a secret")
        path = re.search(r'<path fill="[^"]+" d="([^"]+)"', svg)
        assert path is not None
        cells: set[tuple[int, int]] = set()
        for x, y, height in re.findall(r"M(\d) (\d)h1v(\d)h-1z", path.group(1)):
            run = {(int(x), int(y) + step) for step in range(int(height))}
            assert not run & cells, "runs overlap"
            cells |= run
        assert "".join(re.findall(r"M\d \dh1v\dh-1z", path.group(1))) == path.group(1)
        assert all(0 <= x < 5 and 0 <= y < 5 for x, y in cells)
        assert cells == {(4 - x, y) for x, y in cells}
