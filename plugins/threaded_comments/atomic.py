"""The one atomic-write helper: files that readers see whole, old or new, never half.

Used for comment files (publishing, the importer) and for comments.json, which the intake
reads while a build may be rewriting it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

# Temp files are named `.<name>.<pid>.tmp` beside their target, so a clean-up can tell
# whose they are (see `remove_orphaned_temp_files`).
TEMP_SUFFIX = ".tmp"


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def holds(path: Path, data: bytes) -> bool:
    """Whether the file at `path` holds exactly `data` (False if there is none). Checking
    costs less than writing it again, and a file left alone keeps its date for rsync."""
    try:
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def temp_path(path: Path) -> Path:
    """This process's temp file for `path`."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def atomic_write(
    files: Mapping[Path, str], *, after_each: Callable[[Path], None] | None = None
) -> None:
    """Write each text to its path so that readers see the old file or the new one, never
    half, and all of them are on disk when this returns.

    All temp files are written first and synced together, then renamed, then each folder
    is synced once: one journal commit carries most of the data, which makes a batch of
    a thousand files several times faster than syncing them one by one. `after_each` is
    called with each path once it is in place.
    """
    temps = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = temp_path(path)
            temp.write_text(text, encoding="utf-8", newline="\n")
            # Readable by a web server, whatever the umask made of a fresh file.
            temp.chmod(0o644)
            temps[path] = temp
        for temp in temps.values():
            _fsync(temp, os.O_RDWR)
        for path, temp in temps.items():
            temp.replace(path)
            if after_each is not None:
                after_each(path)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    for folder in {path.parent for path in files}:
        _fsync(folder)


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def remove_orphaned_temp_files(folder: Path, pattern: str = f"*/.*{TEMP_SUFFIX}") -> int:
    """Delete temp files under `folder` left by processes that are gone; returns how many.

    A temp file of a process still running is its write in progress, and is left alone.
    """
    removed = 0
    for temp in folder.glob(pattern) if folder.exists() else ():
        pid = temp.name.removesuffix(TEMP_SUFFIX).rpartition(".")[2]
        if pid.isdigit() and not _process_is_gone(int(pid)):
            continue
        temp.unlink(missing_ok=True)
        removed += 1
    return removed
