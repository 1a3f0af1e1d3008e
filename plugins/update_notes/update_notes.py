"""Dated update notes on earlier posts, and backlinks on the posts that follow them up.

Front matter of the earlier post (keys are case-insensitive; Pelican lowercases them)::

    Note_date: 2017-10-09
    Note: This post was written when we had just started texting.
    Followup: the-rules-we-settled-on

`Followup` may name several slugs, separated by commas. The note and the backlink are
prepended to the post's content, so the article page and the Atom/RSS entry carry the
same words exactly once. Bad metadata stops the build: this runs in
`article_generator_finalized`, whose exceptions Pelican does not swallow.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from itertools import chain

from pelican import signals
from pelican.contents import Article
from pelican.generators import ArticlesGenerator

logger = logging.getLogger(__name__)

NOTE_KEYS = ("note_date", "note", "followup")


class UpdateNoteError(Exception):
    """Update-note metadata that cannot be rendered; the message names each file and value."""


@dataclass
class UpdateNote:
    """One post's parsed note: when it was added, its words, and the posts it points to."""

    article: Article
    added: date
    text: str
    followups: list[Article] = field(default_factory=list)


def source_name(article: Article) -> str:
    """The post's source file, relative to the working folder when it sits inside it."""
    path = article.source_path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def metadata_text(article: Article, key: str) -> str:
    """A metadata value as one string: Markdown's meta extension gives continued lines as a list."""
    value = article.metadata.get(key, "")
    if isinstance(value, list):
        value = " ".join(value)
    return str(value).strip()


def followup_slugs(article: Article) -> list[str]:
    """The slugs named by `Followup`, in the order written, each once."""
    slugs = (slug.strip() for slug in metadata_text(article, "followup").split(","))
    return list(dict.fromkeys(slug for slug in slugs if slug))


def parse_note(
    article: Article, by_slug: dict[str, Article]
) -> tuple[UpdateNote | None, list[str]]:
    """Read one post's note metadata; returns the note (or None) and the problems found."""
    if not any(key in article.metadata for key in NOTE_KEYS):
        return None, []
    where = source_name(article)
    problems = []
    raw_date = metadata_text(article, "note_date")
    added = None
    try:
        # ISO only: a "10/09/2017" would be read one way here and the other way by a reader.
        added = datetime.fromisoformat(raw_date).date()
    except ValueError:
        shown = repr(raw_date) if raw_date else "(missing)"
        problems.append(f"{where}: Note_date {shown} is not a date in YYYY-MM-DD form")
    if added is not None and added < article.date.date():
        problems.append(
            f"{where}: Note_date {raw_date!r} is before the post's own date "
            f"{article.date.date().isoformat()}"
        )
    followups = []
    for slug in followup_slugs(article):
        if slug == article.slug:
            problems.append(f"{where}: Followup {slug!r} is the post itself")
        elif slug not in by_slug:
            problems.append(f"{where}: Followup {slug!r} names no post")
        else:
            followups.append(by_slug[slug])
    text = metadata_text(article, "note")
    if not text and not followups and not problems:
        problems.append(f"{where}: Note_date {raw_date!r} has neither a Note nor a Followup")
    if problems:
        return None, problems
    return UpdateNote(article=article, added=added, text=text, followups=followups), []


def find_cycles(notes: Iterable[UpdateNote]) -> list[str]:
    """Problems for every follow-up chain that leads back to a post already on it."""
    # Oldest post first, so a cycle is reported from where a reader would enter it.
    ordered = sorted(notes, key=lambda note: (note.article.date, note.article.slug))
    edges = {note.article.slug: [a.slug for a in note.followups] for note in ordered}
    sources = {note.article.slug: note.article for note in ordered}
    problems = []
    finished: set[str] = set()

    def walk(path: list[str]) -> None:
        for nxt in edges.get(path[-1], []):
            if nxt in path:
                loop = [*path[path.index(nxt) :], nxt]
                problems.append(
                    f"{source_name(sources[loop[0]])}: Followup {loop[1]!r} makes a cycle: "
                    + " -> ".join(loop)
                )
            elif nxt not in finished:
                walk([*path, nxt])
        finished.add(path[-1])

    for slug in edges:
        if slug not in finished:
            walk([slug])
    return problems


def link(article: Article) -> str:
    """A link to the post by its title, in Pelican's {filename} form so SITEURL applies."""
    # Titles are markup to Pelican's templates too, so they are not escaped here either.
    return f'<a href="{{filename}}/{article.relative_source_path}">{article.title}</a>'


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def note_html(note: UpdateNote) -> str:
    """The note's sentence: 'Note added October 2017: … For the follow-up, read <Title>.'"""
    parts = [f"<strong>Note added {note.added:%B %Y}:</strong>"]
    if note.text:
        parts.append(escape(note.text))
    if note.followups:
        noun = "follow-up" if len(note.followups) == 1 else "follow-ups"
        parts.append(f"For the {noun}, read {join_words([link(a) for a in note.followups])}.")
    return f'<p class="update-note-added">{" ".join(parts)}</p>'


def backlink_html(earlier: list[Article]) -> str:
    """The follow-up's sentence: 'This post follows up <Title> (March 2016).'"""
    named = [f"{link(a)} ({a.date:%B %Y})" for a in sorted(earlier, key=lambda a: a.date)]
    return f'<p class="update-note-backlink">This post follows up {join_words(named)}.</p>'


def attach_notes(generator: ArticlesGenerator) -> None:
    """Validate every post's note metadata, then prepend notes and backlinks to the content."""
    articles = list(chain(generator.articles, generator.hidden_articles, generator.drafts))
    by_slug = {article.slug: article for article in articles}
    notes: list[UpdateNote] = []
    problems: list[str] = []
    for article in articles:
        note, found = parse_note(article, by_slug)
        problems += found
        if note is not None:
            notes.append(note)
    problems += find_cycles(notes)
    if problems:
        raise UpdateNoteError(
            "update_notes: the build stops on bad update-note metadata:\n  " + "\n  ".join(problems)
        )

    followed_by: dict[str, list[Article]] = {}
    for note in notes:
        for target in note.followups:
            followed_by.setdefault(target.slug, []).append(note.article)
    notes_by_slug = {note.article.slug: note for note in notes}
    for article in articles:
        sentences = []
        if article.slug in followed_by:
            sentences.append(backlink_html(followed_by[article.slug]))
        if article.slug in notes_by_slug:
            sentences.append(note_html(notes_by_slug[article.slug]))
        if sentences:
            prepend(article, '<aside class="update-note">' + "".join(sentences) + "</aside>\n")
    logger.debug("update_notes: %d notes, %d follow-ups", len(notes), len(followed_by))


def prepend(article: Article, html: str) -> None:
    """Put `html` at the top of the post's content, keeping the summary the post had without it."""
    # The summary is cut from the content unless the author wrote one; fix it first so the
    # home page shows the post's own opening words, not the note.
    if "summary" not in article.metadata:
        article.metadata["summary"] = article.get_summary(article.get_siteurl())
    article._content = html + article._content
    # get_content is memoized per (object, siteurl), and cutting the summary filled it.
    memo = article.get_content.cache
    for key in [key for key in memo if key[0] is article]:
        del memo[key]


def register() -> None:
    """Pelican's entry point for the plugin."""
    signals.article_generator_finalized.connect(attach_notes)
