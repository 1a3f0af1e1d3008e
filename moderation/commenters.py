"""Commenters the author has already let through, remembered past the purge (issue 14).

HOLD_FIRST_COMMENT holds a commenter's first comment until one of hers has been approved,
as WordPress does. The inbox forgets her address 30 days after a decision, so approval is
also remembered as a hash of the address: enough to recognise her next comment, not to
write to her.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable

from moderation import inbox


def address_hash(address: str) -> str:
    """An address as it is remembered without being kept (any case, outer spaces ignored)."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def remember(connection: sqlite3.Connection, address: str) -> None:
    """Record that a comment from `address` was approved (call inside a transaction)."""
    connection.execute(
        "INSERT OR IGNORE INTO known_commenters (address_hash, since) VALUES (?, ?)",
        (address_hash(address), inbox.utc_now()),
    )


def is_known(connection: sqlite3.Connection, address: str) -> bool:
    """Whether a comment from `address` has been approved, before or after the purge."""
    if inbox.has_approved_comment_from(connection, address):
        return True
    row = connection.execute(
        "SELECT 1 FROM known_commenters WHERE address_hash = ?", (address_hash(address),)
    ).fetchone()
    return row is not None


def remembered(connection: sqlite3.Connection, addresses: Iterable[str]) -> list[sqlite3.Row]:
    """The remembered approvals of these addresses (for an inbox copy that must know them)."""
    hashes = sorted({address_hash(address) for address in addresses})
    marks = ", ".join("?" for _ in hashes)
    return connection.execute(
        f"SELECT * FROM known_commenters WHERE address_hash IN ({marks})",  # noqa: S608 - marks
        hashes,
    ).fetchall()
