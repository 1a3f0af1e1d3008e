"""WordPress images as files in content/images/, with `import-wordpress --download-media`.

The export lists every uploaded file as an attachment item with its address
(wp:attachment_url). Only when asked, and only for those, the importer fetches each file
into content/images/<year>/<month>/<name> (the shape of WordPress's uploads folder) and
points the posts' images and links at the copy (Pelican's {static} links). A file that
cannot be fetched keeps its old address, and the summary says which and why; without
--download-media every image stays linked where it was, and the summary lists them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

import httpx
from bs4 import BeautifulSoup

from moderation.importers import wxr
from moderation.importers.html_to_markdown import LOCAL_PREFIX

IMAGES_DIR = "images"
MAX_BYTES = 20 * 1024 * 1024
TIMEOUT_SECONDS = 15.0
_YEAR_MONTH = re.compile(r"\d{4}/\d{2}")


@dataclass
class MediaReport:
    """What became of the export's attachments."""

    copied: dict[str, str] = field(default_factory=dict)  # URL -> path under content/
    not_copied: dict[str, str] = field(default_factory=dict)  # URL -> why


def without_query(url: str) -> str:
    """An image's address without WordPress's resizing query (?w=300)."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def attachments(export: wxr.Export) -> dict[str, str]:
    """Each attachment's address -> where its copy goes, relative to the content folder."""
    planned: dict[str, str] = {}
    for item in export.items:
        if item.post_type != "attachment" or not item.attachment_url:
            continue
        url = without_query(item.attachment_url)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        path = PurePosixPath(urlsplit(url).path)
        folder = "/".join(path.parts[-3:-1])
        name = path.name or f"attachment-{item.post_id}"
        planned[url] = "/".join(
            part
            for part in (IMAGES_DIR, folder if _YEAR_MONTH.fullmatch(folder) else "", name)
            if part
        )
    return planned


def fetch(planned: Mapping[str, str], content_dir: Path) -> MediaReport:
    """Copy each planned file into the content folder (kept if already there)."""
    report = MediaReport()
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True) as client:
        for url, relative in planned.items():
            target = content_dir / relative
            if target.exists():
                report.copied[url] = relative
                continue
            try:
                data = _download(client, url)
            except (httpx.HTTPError, ValueError) as error:
                report.not_copied[url] = str(error) or type(error).__name__
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temp.write_bytes(data)
            temp.replace(target)
            report.copied[url] = relative
    return report


def _download(client: httpx.Client, url: str) -> bytes:
    with client.stream("GET", url) as response:
        response.raise_for_status()
        kind = response.headers.get("content-type", "")
        if not kind.startswith("image/"):
            raise ValueError(f"not an image ({kind or 'no content type'})")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
            chunks.append(chunk)
    return b"".join(chunks)


def point_at_copies(soup: BeautifulSoup, copied: Mapping[str, str]) -> None:
    """Images and links to a copied file point at the copy ({static}: Pelican's link)."""
    for element, attribute in [(img, "src") for img in soup.find_all("img", src=True)] + [
        (anchor, "href") for anchor in soup.find_all("a", href=True)
    ]:
        relative = copied.get(without_query(element[attribute]))
        if relative is not None:
            element[attribute] = LOCAL_PREFIX + relative
