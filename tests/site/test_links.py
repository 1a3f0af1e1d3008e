"""A link checker over the built site, and the privacy rule that no page makes the reader's
browser ask another host for anything (scripts, styles, images, fonts, frames, forms)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from tests.support.site import read_html

# Attributes through which a page makes the browser fetch something by itself.
FETCHING = {
    "link": ["href"],
    "script": ["src"],
    "img": ["src", "srcset"],
    "source": ["src", "srcset"],
    "iframe": ["src"],
    "frame": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "track": ["src"],
    "input": ["src"],
    "form": ["action"],
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
# Served by the comment intake, not by files in output/ (the intake's own tests cover them).
INTAKE_PREFIX = "/api/"
CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.IGNORECASE)


def is_external(url: str) -> bool:
    """True for a URL on another host. The sample build has SITEURL "", so any host is another."""
    return bool(urlsplit(url).netloc)


def srcset_urls(value: str) -> list[str]:
    return [candidate.split()[0] for candidate in value.split(",") if candidate.strip()]


def page_url(site: Path, path: Path) -> str:
    """The address a page is served at, e.g. /2016/03/slug/ for .../slug/index.html."""
    relative = path.relative_to(site).as_posix()
    return "/" + (relative[: -len("index.html")] if relative.endswith("index.html") else relative)


def resolve(site: Path, url: str) -> Path | None:
    """The file a site-absolute URL path is served from, or None when there is none."""
    target = site / unquote(url).lstrip("/")
    if url.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def ids_in(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = {tag["id"] for tag in read_html(path).find_all(id=True)}
    return cache[path]


def broken_links(site: Path) -> list[str]:
    """Every href/src on every page that names a missing file, or a missing #fragment."""
    problems = []
    ids: dict[Path, set[str]] = {}
    for path in sorted(site.rglob("*.html")):
        page = read_html(path)
        here = page_url(site, path)
        for tag in page.find_all(["a", "link", "script", "img", "source", "iframe"]):
            values = [tag.get("href"), tag.get("src"), *srcset_urls(tag.get("srcset", ""))]
            for value in filter(None, values):
                if urlsplit(value).scheme or is_external(value):
                    continue  # another host, or mailto:/data: - nothing to find in output/
                absolute = urlsplit(urljoin(here, value))
                if absolute.path.startswith(INTAKE_PREFIX):
                    continue
                target = resolve(site, absolute.path)
                where = f"{path.relative_to(site)}: {value}"
                if target is None:
                    problems.append(f"{where} names no file")
                elif (
                    absolute.fragment
                    and target.suffix == ".html"
                    and unquote(absolute.fragment) not in ids_in(target, ids)
                ):
                    problems.append(f"{where} names no element id on {target.name}")
    return problems


# The comment form must link to Akismet's privacy notice (issue 3; Akismet's terms ask for it).
# A link the reader may choose to follow makes no request by itself, so it is the one
# outbound link the theme's frame may carry.
THEME_OUTBOUND_LINKS = {"https://akismet.com/privacy/"}


def outbound_link_is_allowed(tag) -> bool:
    """A plain <a> to another host is fine inside a post or a comment, not in the theme's frame."""
    return tag["href"] in THEME_OUTBOUND_LINKS or tag.find_parent("article") is not None


def third_party_requests(site: Path) -> list[str]:
    """Every place a page or stylesheet would make the browser contact another host."""
    problems = []
    for path in sorted(site.rglob("*.html")):
        page = read_html(path)
        where = path.relative_to(site)
        for name, attributes in FETCHING.items():
            for tag in page.find_all(name):
                for attribute in attributes:
                    value = tag.get(attribute, "")
                    urls = srcset_urls(value) if attribute == "srcset" else [value]
                    problems += [
                        f"{where}: <{name} {attribute}={url}>"
                        for url in urls
                        if url and is_external(url)
                    ]
        for tag in page.find_all("a", href=True):
            if is_external(tag["href"]) and not outbound_link_is_allowed(tag):
                problems.append(f"{where}: theme link to another host {tag['href']}")
        styles = [tag.get_text() for tag in page.find_all("style")]
        styles += [tag["style"] for tag in page.find_all(style=True)]
        problems += [f"{where}: {p}" for style in styles for p in css_problems(style)]
    for path in sorted(site.rglob("*.css")):
        css = path.read_text(encoding="utf-8")
        problems += [f"{path.relative_to(site)}: {p}" for p in css_problems(css)]
    return problems


def css_problems(css: str) -> list[str]:
    urls = CSS_URL.findall(css) + CSS_IMPORT.findall(css)
    return [f"CSS fetches {url}" for url in urls if is_external(url)]


def test_every_internal_link_and_asset_resolves(sample_site: Path) -> None:
    assert broken_links(sample_site) == []


def test_no_page_or_stylesheet_fetches_from_another_host(sample_site: Path) -> None:
    assert third_party_requests(sample_site) == []


def test_the_checkers_catch_what_they_are_for(tmp_path: Path) -> None:
    """The two checks above must be able to fail: a small site with one of each problem."""
    (tmp_path / "about").mkdir()
    (tmp_path / "about/index.html").write_text('<main id="main">About</main>', encoding="utf-8")
    (tmp_path / "style.css").write_text(
        "@import 'https://fonts.example.com/x.css';\n"
        "body { background: url(data:image/png;base64,AA); }",
        encoding="utf-8",
    )
    (tmp_path / "index.html").write_text(
        """<html><head>
        <link rel="stylesheet" href="/style.css">
        <script src="https://cdn.example.com/lib.js"></script>
        </head><body>
        <a href="/about/">fine</a> <a href="/about/#main">fine</a> <a href="#top">no id</a>
        <a href="/missing/">missing</a> <img src="gone.png" alt="">
        <nav><a href="https://elsewhere.example.org/">theme link out</a></nav>
        <article><a href="https://fine.example.org/">a post's own link</a></article>
        <p style="background: url('//tracker.example.net/p.gif')">x</p>
        </body></html>""",
        encoding="utf-8",
    )
    assert broken_links(tmp_path) == [
        "index.html: #top names no element id on index.html",
        "index.html: /missing/ names no file",
        "index.html: gone.png names no file",
    ]
    assert third_party_requests(tmp_path) == [
        "index.html: <script src=https://cdn.example.com/lib.js>",
        "index.html: theme link to another host https://elsewhere.example.org/",
        "index.html: CSS fetches //tracker.example.net/p.gif",
        "style.css: CSS fetches https://fonts.example.com/x.css",
    ]


def test_fragment_only_and_query_links_resolve_to_the_same_page(tmp_path: Path) -> None:
    """The comment reply link is `?replyto=<id>#respond`: the same page, so its id must exist."""
    (tmp_path / "post").mkdir()
    page = '<div id="respond"></div><a href="?replyto=c1#respond">Reply</a>'
    (tmp_path / "post/index.html").write_text(page, encoding="utf-8")
    assert broken_links(tmp_path) == []
    (tmp_path / "post/index.html").write_text(page.replace("respond", "elsewhere", 1), "utf-8")
    assert broken_links(tmp_path) == [
        "post/index.html: ?replyto=c1#respond names no element id on index.html"
    ]
