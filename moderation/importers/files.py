"""Move an importer's files into content/ without ever clobbering the author's own edits.

A manifest in the content folder (`.wordpress-import.json`: relative path -> SHA-256 of what
the importer last wrote; no private data) tells an untouched imported file, which a rerun
may refresh, from one the author has since edited or deleted, which is kept as it is unless
`force` is given. Each file is written whole or not at all (`threaded_comments.atomic_write`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from threaded_comments import atomic_write

MANIFEST_NAME = ".wordpress-import.json"


@dataclass
class WriteReport:
    """What happened to each planned file (paths relative to the content folder)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)  # the author changed it since
    kept_deleted: list[str] = field(default_factory=list)  # the author deleted it since
    # Of kept_edited, those no import wrote (a post of the same slug was already there),
    # with the Title: of what is there ("" when it has none).
    existing_titles: dict[str, str] = field(default_factory=dict)


def digest(text: str) -> str:
    """The manifest's fingerprint of a file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_manifest(content_dir: Path) -> dict[str, str]:
    """The paths and hashes the importer wrote last time (empty before the first run)."""
    path = content_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        message = f"{path}: the import manifest is damaged ({error}); fix or remove it"
        raise ValueError(message) from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: the import manifest is damaged (not a JSON object)")
    return {str(k): str(v) for k, v in manifest.items()}


def title_of(path: Path) -> str:
    """The Title: line of a Markdown file's metadata, or ""."""
    header = path.read_text(encoding="utf-8", errors="replace").partition("\n\n")[0]
    for line in header.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "title":
            return value.strip()
    return ""


def _checked(relative: str) -> PurePosixPath:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"refusing to write outside the content folder: {relative!r}")
    return path


def write_files(content_dir: Path, files: dict[str, str], *, force: bool = False) -> WriteReport:
    """Write `files` (relative path -> text) under `content_dir`, as the module doc says."""
    content_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(content_dir)
    report = WriteReport()
    to_write: dict[PurePosixPath, str] = {}
    for relative, text in sorted(files.items()):
        path = _checked(relative)
        target = content_dir / path
        new_hash = digest(text)
        if target.exists():
            current = digest(target.read_text(encoding="utf-8", errors="surrogateescape"))
            if current == new_hash:
                report.unchanged.append(relative)
                manifest[relative] = new_hash
            elif force or manifest.get(relative) == current:
                report.updated.append(relative)
                to_write[path] = text
            else:
                report.kept_edited.append(relative)
                if relative not in manifest:
                    report.existing_titles[relative] = title_of(target)
        elif relative in manifest and not force:
            report.kept_deleted.append(relative)
        else:
            report.created.append(relative)
            to_write[path] = text

    # The files first, then the manifest that vouches for them: an import killed in
    # between leaves files the next run sees as the author's, and keeps (not loses).
    atomic_write({content_dir / path: text for path, text in to_write.items()})
    for path, text in to_write.items():
        manifest[str(path)] = digest(text)
    manifest_text = json.dumps(dict(sorted(manifest.items())), indent=1) + "\n"
    atomic_write({content_dir / MANIFEST_NAME: manifest_text})
    return report
