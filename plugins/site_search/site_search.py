"""Write every published post's and page's title, address, date and plain text to one
JSON file, so the theme's search.js can search the whole blog in the browser, offline,
with no search service. The build writes it whole or not at all (the atomic write that
threaded_comments owns).

    {"entries": [{"title": "...", "url": "2016/03/texting-my-therapist/",
                  "date": "2016-03-14", "text": "the post's words, tags and category"}]}
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator
from threaded_comments import atomic_write
from unchanged_files import SELECTED_SETTING

SAVE_AS_SETTING = "SEARCH_INDEX_SAVE_AS"
DEFAULT_SAVE_AS = "search.json"

TAG = re.compile(r"<[^>]*>")
SPACE = re.compile(r"\s+")


def plain_text(markup: str) -> str:
    """The words of an HTML fragment, tags dropped and entities read, in one line."""
    return SPACE.sub(" ", html.unescape(TAG.sub(" ", markup))).strip()


def entry(content: Any) -> dict[str, str]:
    """One post or page as the index holds it."""
    words = [plain_text(content.content)]
    words += [tag.name for tag in getattr(content, "tags", None) or []]
    if getattr(content, "category", None):
        words.append(content.category.name)
    return {
        "title": plain_text(content.title),
        "url": content.url,
        "date": content.date.date().isoformat() if getattr(content, "date", None) else "",
        "text": " ".join(words),
    }


def index(generators: list[Any]) -> dict[str, list[dict[str, str]]]:
    """Posts newest first, then the pages; drafts and hidden pages are not in the lists."""
    entries: list[dict[str, str]] = []
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            entries[:0] = [entry(article) for article in generator.articles]
        elif isinstance(generator, PagesGenerator):
            entries += [entry(page) for page in generator.pages]
    return {"entries": entries}


def write_index(generators: list[Any]) -> None:
    settings = generators[0].settings
    if settings.get(SELECTED_SETTING) is not None:
        return  # a selected build (unchanged_files) changes comments, which are not indexed
    path = Path(settings["OUTPUT_PATH"]) / (settings.get(SAVE_AS_SETTING) or DEFAULT_SAVE_AS)
    atomic_write({path: json.dumps(index(generators), ensure_ascii=False, separators=(",", ":"))})


def register() -> None:
    signals.all_generators_finalized.connect(write_index)
