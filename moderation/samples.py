"""`invoke clean-samples`: take the sample blog out of content/ before a blogger moves in.

The project ships a small sample blog (posts, an About page, reader comments) so that a
fresh checkout builds and shows every feature. content/.sample-content.json lists each
sample file with the SHA-256 of its text as shipped; only a file still byte-for-byte the
sample is removed, so anything the blogger wrote or changed stays. The 404 page is not a
sample: the theme's "page not found" needs it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

SAMPLES_NAME = ".sample-content.json"


@dataclass
class CleanReport:
    """What clean_samples did, paths relative to the content folder."""

    removed: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)  # she changed it: hers now
    already_gone: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"Removed {len(self.removed)} sample files."]
        lines += [f"  kept {path}: changed since it was a sample" for path in self.kept_changed]
        if self.already_gone:
            lines.append(f"  {len(self.already_gone)} were gone already.")
        return lines


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean_samples(content_dir: Path) -> CleanReport:
    """Remove the unchanged sample files listed in the content folder's sample list, the
    comment folders they leave empty, and then the list itself."""
    listing = content_dir / SAMPLES_NAME
    report = CleanReport()
    if not listing.exists():
        return report
    samples: dict[str, str] = json.loads(listing.read_text(encoding="utf-8"))
    for relative, digest in sorted(samples.items()):
        path = content_dir / relative
        if not path.exists():
            report.already_gone.append(relative)
        elif file_hash(path) != digest:
            report.kept_changed.append(relative)
        else:
            path.unlink()
            report.removed.append(relative)
    # Every folder a sample lived in, deepest first: a post's comment folder goes before
    # comments/, and a folder that still holds her files stays.
    folders = {parent for r in samples for parent in Path(r).parents if parent.parts}
    for folder in sorted(folders, key=lambda f: -len(f.parts)):
        path = content_dir / folder
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    listing.unlink()
    return report
