"""The plugin's cache, modelled on Pelican's FileStampDataCacher and built on its base class.

Pelican's content cache keeps each file's data under the file's stamp. Here each post's
comments are kept under the post's stamp: its comment files' (name, mtime_ns, size) and
the post's own parts that reach the thread or the feeds (title, URL, open or closed). The
whole cache is dropped when the plugin's code, the thread template, the settings or a
renderer library's version changes, or when the template makes another thread of the same
sample comments (a filter another plugin adds has a new key, say). It lives in CACHE_PATH
beside Pelican's, and follows CACHE_CONTENT (store) and LOAD_CONTENT_CACHE (load).

A post's big texts (its thread's HTML, its pickled feed) are not in the pickle but in a
texts file beside it, which the pickle points into with a `Span` for each; a build reads
one when it needs it. A rebuild then loads a small pickle and reads each thread once, as
its page is written, instead of holding a big site's 80 MB of texts for the whole build,
whose memory cost more CPU time (in the kernel) than the reads do.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Hashable, Iterable
from importlib.metadata import version
from io import FileIO
from pathlib import Path
from typing import Any, NamedTuple

from pelican.cache import FileDataCacher

logger = logging.getLogger(__name__)

CACHE_NAME = "threaded_comments.pickle"
# The libraries whose output the cache keeps: an upgrade (a sanitiser fix, say) must not
# leave HTML it made before in place.
RENDERING_LIBRARIES = ("markdown-it-py", "cmarkgfm", "nh3", "jinja2")
# The texts file's name: a new one each time the file is made anew, so that a pickle never
# points into a file made after it.
TEXTS_NAME = "threaded_comments.{}.texts"
# Tuples, so that no URL can be mistaken for them.
_FINGERPRINT_KEY = ("fingerprint",)
_SITE_FILES_KEY = ("site files",)
# The texts file's name, and how far it holds texts the pickle points to.
_TEXTS_KEY = ("texts file",)
_KEYS = {_FINGERPRINT_KEY, _SITE_FILES_KEY, _TEXTS_KEY}


def code_fingerprint(options: dict[str, Any], *sources: str) -> str:
    """A hash of this plugin's code, the renderer libraries' versions, the plugin's
    settings and `sources` (the thread template's text, the time zone, a sample thread)."""
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for library in RENDERING_LIBRARIES:
        digest.update(f"{library}=={version(library)}".encode())
    digest.update(repr(sorted(options.items())).encode())
    for source in sources:
        digest.update(source.encode())
    return digest.hexdigest()


class Span(NamedTuple):
    """Where the texts file holds one text: its first byte, and its length in bytes."""

    offset: int
    length: int


class TextsFile:
    """The cache's texts, one after another in one file, which builds only append to.

    A text is never moved or written over, so a Span stays good for as long as the file is
    there, after the cache is saved too. Builds that run at once (`invoke livereload`'s
    and a moderation run's) append at the file's end (O_APPEND) without writing over each
    other's texts, and a file is only ever made under a new name, so no pickle can point
    into a file made after it. `end` is how far this build's Spans reach.
    """

    def __init__(self, path: Path, end: int = 0, reader: FileIO | None = None) -> None:
        self.path = path
        self.end = end
        self.size = end
        self._reader = reader
        self._writer: int | None = None

    @classmethod
    def new(cls, folder: Path) -> TextsFile:
        """A file not made yet, under a new name: the first append makes it."""
        return cls(folder / TEXTS_NAME.format(uuid.uuid4().hex[:12]))

    @classmethod
    def open(cls, path: Path, end: int) -> TextsFile | None:
        """The file, open for reading (so that a build that deletes it later leaves this one
        able to read it), if it is there and reaches `end`; else None."""
        if end == 0:  # no text was ever written, so neither was the file
            return cls(path)
        try:
            reader = FileIO(path, "r")
        except FileNotFoundError:
            return None
        texts = cls(path, end, reader)
        texts.size = os.fstat(reader.fileno()).st_size
        if texts.size < end:
            reader.close()
            return None
        return texts

    def read(self, span: Span) -> bytes:
        if self._reader is None:
            self._reader = FileIO(self.path, "r")
        self._reader.seek(span.offset)
        data = self._reader.read(span.length)
        if data is None or len(data) != span.length:
            raise OSError(f"{self.path}: ends before a text the cache points to")
        return data

    def append(self, data: bytes) -> Span:
        """Write `data` at the end of the file. FileNotFoundError if the file was deleted
        since this build opened it (by a build that moved the texts to a new file);
        FileExistsError if a file this build was to make was made by another."""
        if self._writer is None:
            flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
            if self._reader is None:  # a new file
                self.path.parent.mkdir(parents=True, exist_ok=True)
                flags |= os.O_CREAT | os.O_EXCL
            self._writer = os.open(self.path, flags)
        written = os.write(self._writer, data)
        if written != len(data):
            raise OSError(f"{self.path}: wrote {written} of {len(data)} bytes")
        # With O_APPEND the write went to the file's end, wherever another build left it.
        self.end = os.lseek(self._writer, 0, os.SEEK_CUR)
        return Span(self.end - len(data), len(data))

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._writer is not None:
            os.close(self._writer)
        self._reader = self._writer = None


class CommentCache(FileDataCacher):
    """Each post's comments (whatever the build stores) under the post's stamp, keyed by
    the post's URL, with the fields named in `text_fields` in the texts file.

    A post's data is a NamedTuple. In a post this build made, its text fields hold the str
    or bytes themselves; in a post from the cache they hold Spans, for `read`.
    """

    def __init__(
        self, settings: dict[str, Any], fingerprint: str, text_fields: Iterable[str]
    ) -> None:
        # Not gzipped, whatever GZIP_CACHE says: at the default level, compressing a big
        # site's threads costs seconds a build, and the file is read on every build.
        settings = {**settings, "GZIP_CACHE": False}
        policies = (settings["CACHE_CONTENT"], settings["LOAD_CONTENT_CACHE"])
        try:
            super().__init__(settings, CACHE_NAME, *policies)
        except (AttributeError, ImportError, EOFError, ValueError, TypeError) as error:
            # A cache written by another version of the plugin (Pelican catches only
            # OSError and PickleError): start afresh.
            logger.warning("threaded_comments: ignoring the cache of another version (%s)", error)
            super().__init__(settings, CACHE_NAME, policies[0], load_policy=False)
        self._folder = Path(settings["CACHE_PATH"])
        self._text_fields = tuple(text_fields)
        # A texts file older than this build that it does not use is left over (see save).
        self._started = time.time_ns()
        if not isinstance(self._cache, dict):
            self._cache = {}
        self._texts = self._open_texts(fingerprint)
        self._fingerprint = fingerprint
        # This build's entries: posts that are gone are not stored again.
        self._used: dict[str, tuple[Hashable, Any]] = {}
        self._site_files = self._cache.get(_SITE_FILES_KEY)
        # Whether a post was made anew in this build, and whether anything is to be saved.
        self._stored_a_post = False
        self._changed = False
        if self._texts.size > 2 * self._live_text_bytes():
            self._cache.update(self._move_texts(self._posts()))

    def _open_texts(self, fingerprint: str) -> TextsFile:
        """The texts file the loaded pickle points into; if it is gone or cut short (a crash
        lost its end), or the pickle is of other code or settings, an empty cache and a new
        texts file."""
        recorded = self._cache.get(_TEXTS_KEY)
        if self._cache.get(_FINGERPRINT_KEY) == fingerprint and recorded is not None:
            name, end = recorded
            texts = TextsFile.open(self._folder / name, end)
            if texts is not None:
                return texts
            logger.warning(
                "threaded_comments: %s is gone or cut short; making the cache anew",
                self._folder / name,
            )
        self._cache = {_FINGERPRINT_KEY: fingerprint}
        return TextsFile.new(self._folder)

    def _posts(self) -> dict[str, tuple[Hashable, Any]]:
        return {key: entry for key, entry in self._cache.items() if key not in _KEYS}

    def _live_text_bytes(self) -> int:
        return sum(
            getattr(data, field).length
            for _, data in self._posts().values()
            for field in self._text_fields
        )

    def _move_texts(
        self, entries: dict[str, tuple[Hashable, Any]]
    ) -> dict[str, tuple[Hashable, Any]]:
        """`entries` with their texts copied into a new texts file, which becomes the one
        in use. The texts no entry points to (posts' former texts) are left behind, with
        the old file, which a build deletes once its pickle no longer points into it."""
        old, self._texts = self._texts, TextsFile.new(self._folder)
        moved = {}
        for key, (stamp, data) in entries.items():
            texts = {
                field: self._texts.append(old.read(value))
                for field in self._text_fields
                if isinstance(value := getattr(data, field), Span)
            }
            moved[key] = (stamp, data._replace(**texts))
        old.close()
        self._changed = True
        return moved

    def get_post(self, url: str, stamp: Hashable) -> Any:
        """What was stored for the post under this stamp, or None."""
        cached = self._cache.get(url)
        if cached is None or cached[0] != stamp:
            return None
        self._used[url] = cached
        return cached[1]

    def store_post(self, url: str, stamp: Hashable, data: Any) -> None:
        self._used[url] = (stamp, data)
        self._stored_a_post = self._changed = True

    def update_post(self, url: str, data: Any) -> None:
        """Replace what this build stored or found for the post, under the same stamp."""
        self._used[url] = (self._used[url][0], data)
        self._changed = True

    def read(self, span: Span) -> bytes:
        """The text at `span` of the texts file."""
        return self._texts.read(span)

    def site_files_current(self, inputs: Hashable, stamps: tuple[Any, ...]) -> bool:
        """Whether the site-wide files are as the last build made them from the same inputs:
        no post was made anew in this build (each one's data is the last build's), the
        other `inputs` are the same, and the files' `stamps` are as recorded then."""
        return not self._stored_a_post and self._site_files == (inputs, stamps)

    def record_site_files(self, inputs: Hashable, stamps: tuple[Any, ...]) -> None:
        """What the site-wide files were just made of, and their stamps once written."""
        self._site_files = (inputs, stamps)
        self._changed = True

    def save(self) -> None:
        """Store this build's posts, if anything changed since the cache was loaded.

        The order keeps the pickle pointing at whole texts: the new texts are appended
        first, then the pickle is written, and only then is a former texts file deleted.
        """
        if not self._changed and self._used.keys() == self._posts().keys():
            return
        if not self._cache_data_policy:
            return
        try:
            self._append_new_texts()
        except (FileNotFoundError, FileExistsError):
            # Another build running at once moved the texts to a new file and deleted this
            # one (which this build still has open), or made the file this build was to
            # make: this build's texts go into a new file of their own.
            self._used = self._move_texts(self._used)
            self._append_new_texts()
        self._cache = {
            _FINGERPRINT_KEY: self._fingerprint,
            _SITE_FILES_KEY: self._site_files,
            _TEXTS_KEY: (self._texts.path.name, self._texts.end),
            **self._used,
        }
        self.save_cache()
        self._texts.close()
        self._delete_former_texts_files()

    def _append_new_texts(self) -> None:
        """Append the texts of the posts this build made, and point to them instead."""
        for url, (stamp, data) in self._used.items():
            texts = {
                field: self._texts.append(value.encode() if isinstance(value, str) else value)
                for field in self._text_fields
                if not isinstance(value := getattr(data, field), Span)
            }
            if texts:
                self._used[url] = (stamp, data._replace(**texts))

    def _delete_former_texts_files(self) -> None:
        """Delete the texts files this build's pickle does not point into and no build has
        written to since this one started (one that has, is still running)."""
        for path in self._folder.glob(TEXTS_NAME.format("*")):
            try:
                if path != self._texts.path and path.stat().st_mtime_ns < self._started:
                    path.unlink()
            except OSError:  # gone already; or open in another build, on Windows
                continue
