"""`invoke moderate --inbox URL`: the pipeline against an intake's admin API
(moderation.intake.admin) instead of the local inbox file.

The pipeline talks to an inbox through one interface, an open SQLite connection with the
inbox's schema (`moderation.pipeline.run.run_on`). For a remote inbox that connection is a
copy in memory: loaded from GET /api/admin/inbox, moderated as a local file would be (same
rules, same Akismet call, same review, same files in content/comments/), then its changes
go back in one POST /api/admin/changes, read off the copy's decision log. Readers' emails,
addresses and user agents are held in memory for the run only, never written here.

Crash safety follows publishing's order: the files are written before the intake hears of
them, and every change is idempotent on the intake, so a run that dies (or loses the
network) before or while sending leaves the intake as it was or finished; the next run
writes the same files again, identically, and sends the rest. Nothing is published twice.

Reply mail is sent by the intake, where subscribers' addresses live: the "published" marks
queue it there, held, and `announce_deployed` (called by `invoke deploy` and
`invoke moderate --deploy` once rsync is done) releases it, so it goes out only when the
live site shows the reply. A run without a deploy leaves it held until the next deploy.

Exit status beside the pipeline's: 2 the intake refused the token (before anything
changed); 1 the intake could not be reached, or refused a stale decision.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console

from moderation import inbox
from moderation.inbox import Status
from moderation.pipeline.run import (
    EXIT_AKISMET_UNREACHABLE,
    EXIT_KEY_REFUSED,
    CommandLine,
    run_on,
)
from moderation.settings import ProjectSettings

INBOX_URL_ENV = "BETWEEN_SESSIONS_INBOX_URL"
TIMEOUT_SECONDS = 30.0
# Log actions that are not a status: what the inbox's own functions log.
PUBLISHED, EDITED = "published", "edited"


class RemoteInboxError(Exception):
    """The intake could not be used; `exit_code` is what `invoke moderate` exits with."""

    def __init__(self, message: str, exit_code: int = EXIT_AKISMET_UNREACHABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RemoteCopy:
    """A remote inbox loaded into memory, and what it said when it was read."""

    connection: sqlite3.Connection
    statuses: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    folded: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    last_decision: int = 0


class RemoteInbox:
    """An intake's admin API at `url`, with the admin token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
        )

    def load(self) -> RemoteCopy:
        """The intake's inbox as an in-memory copy."""
        return load_copy(self.request("GET", "/api/admin/inbox"))

    def send(self, changes: list[dict[str, Any]]) -> dict[str, int]:
        """The run's changes, applied by the intake all together or not at all."""
        return self.request("POST", "/api/admin/changes", json={"changes": changes})

    def request(self, method: str, path: str, **arguments: Any) -> Any:
        try:
            answer = self.client.request(method, path, **arguments)
        except httpx.HTTPError as error:
            raise RemoteInboxError(
                f"The intake at {self.url} could not be reached ({type(error).__name__}): "
                "nothing was changed there."
            ) from error
        if answer.status_code in (401, 429):
            raise RemoteInboxError(
                f"The intake at {self.url} refused the admin token "
                f"({answer.status_code}): check BETWEEN_SESSIONS_ADMIN_TOKEN. Nothing changed.",
                EXIT_KEY_REFUSED,
            )
        if answer.status_code == 404:
            raise RemoteInboxError(
                f"{self.url} has no admin API: is BETWEEN_SESSIONS_ADMIN_TOKEN set on the "
                "server, and is this the blog's address?"
            )
        if answer.status_code != 200:
            reason = answer.json().get("error") if is_json(answer) else answer.reason_phrase
            raise RemoteInboxError(
                f"The intake at {self.url} answered {answer.status_code}: {reason}"
            )
        return answer.json()

    def close(self) -> None:
        self.client.close()


def is_json(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type", "").startswith("application/json")


def load_copy(snapshot: dict[str, Any]) -> RemoteCopy:
    """An in-memory inbox holding the snapshot's rows (likes as counts only)."""
    if snapshot.get("schema") != len(inbox.MIGRATIONS):
        raise RemoteInboxError(
            f"The intake's inbox has schema version {snapshot.get('schema')} and this "
            f"checkout knows {len(inbox.MIGRATIONS)}: update both to the same version."
        )
    connection = inbox.connect(":memory:")
    copy = RemoteCopy(connection)
    with inbox.transaction(connection):
        insert_rows(connection, "comments", snapshot["comments"])
        insert_rows(connection, "decisions", snapshot["decisions"])
        insert_rows(connection, "folded_likes", snapshot["folded_likes"])
        insert_rows(connection, "known_commenters", snapshot["known_commenters"])
        for like in snapshot["likes"]:
            # Who liked stays on the intake; a count of stand-in readers says as much here.
            for reader in range(like["count"]):
                inbox.add_like(connection, like["post_slug"], like["comment_id"], f"r{reader}")
    copy.statuses = {row["id"]: row["status"] for row in snapshot["comments"]}
    copy.reasons = {row["id"]: row["reasons"] for row in snapshot["comments"]}
    copy.folded = {
        (row["post_slug"], row["comment_id"]): (row["base"], row["count"])
        for row in snapshot["folded_likes"]
    }
    copy.last_decision = max((row["id"] for row in snapshot["decisions"]), default=0)
    return copy


def insert_rows(connection: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table`, by the copy's own column names (never the snapshot's)."""
    columns = [column["name"] for column in connection.execute(f"PRAGMA table_info({table})")]
    marks = ", ".join("?" for _ in columns)
    connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - own names
        [[row.get(column) for column in columns] for row in rows],
    )


def changes_since_read(copy: RemoteCopy) -> list[dict[str, Any]]:
    """What the run changed in the copy, as the admin API's changes, in the order made."""
    connection = copy.connection
    now = {row["id"]: row for row in connection.execute("SELECT * FROM comments")}
    log = connection.execute(
        "SELECT * FROM decisions WHERE id > ? ORDER BY id", (copy.last_decision,)
    ).fetchall()
    statuses = set(Status)
    last_status_entry = {
        entry["comment_id"]: entry["id"] for entry in log if entry["action"] in statuses
    }
    status_read = dict(copy.statuses)
    changes: list[dict[str, Any]] = []
    # Comments the run made (the author's replies from the review) go first, as they were
    # made: the intake stores them under the same id, and the log's entries then apply.
    for comment_id, comment in now.items():
        if comment_id not in status_read:
            changes.append(
                {
                    "kind": "author_reply",
                    "id": comment_id,
                    "parent_id": comment["parent_id"],
                    "author": comment["author"],
                    "body": comment["body"],
                    "created_at": comment["created_at"],
                }
            )
            status_read[comment_id] = Status.PENDING
    for entry in log:
        comment = now[entry["comment_id"]]
        if entry["action"] == PUBLISHED:
            changes.append({"kind": "published", "id": comment["id"]})
        elif entry["action"] == EDITED:
            changes.append(
                {
                    "kind": "edit",
                    "id": comment["id"],
                    "body": comment["body"],
                    "actor": entry["actor"],
                }
            )
        elif entry["action"] == Status.REMOVED:
            changes.append({"kind": "removed", "id": comment["id"]})
        else:
            final = last_status_entry[comment["id"]] == entry["id"]
            changes.append(
                {
                    "kind": "decide",
                    "id": comment["id"],
                    "expected": status_read[comment["id"]],
                    "status": entry["action"],
                    "actor": entry["actor"],
                    # The log joins reasons with "; "; the last decision's are the row's own.
                    "reasons": json.loads(comment["reasons"])
                    if final
                    else [part for part in entry["reason"].split("; ") if part],
                    "needs_care": bool(comment["needs_care"]),
                    "akismet_verdict": comment["akismet_verdict"],
                }
            )
            status_read[comment["id"]] = entry["action"]
    decided = {entry["comment_id"] for entry in log}
    for comment_id, comment in now.items():
        if comment_id not in decided and comment["reasons"] != copy.reasons.get(comment_id):
            changes.append(
                {"kind": "reasons", "id": comment_id, "reasons": json.loads(comment["reasons"])}
            )
    for row in connection.execute("SELECT * FROM folded_likes"):
        key = (row["post_slug"], row["comment_id"])
        if copy.folded.get(key) != (row["base"], row["count"]):
            changes.append(
                {
                    "kind": "likes",
                    "post_slug": key[0],
                    "comment_id": key[1],
                    "base": row["base"],
                    "count": row["count"],
                }
            )
    return changes


def run_remote(
    settings: ProjectSettings,
    command_line: CommandLine,
    console: Console,
    remote: RemoteInbox,
    interactive: bool | None = None,
) -> int:
    """The pipeline on the remote inbox's copy, then its changes sent back."""
    try:
        copy = remote.load()
    except RemoteInboxError as error:
        console.print(str(error))
        return error.exit_code
    try:
        code = run_on(copy.connection, settings, command_line, console, interactive)
        if command_line.dry_run or command_line.log or code == EXIT_KEY_REFUSED:
            return code
        changes = changes_since_read(copy)
        if not changes:
            return code
        try:
            sent = remote.send(changes)
        except RemoteInboxError as error:
            console.print(
                f"{error}\nThe files written here stay; the next run sends these decisions "
                "again and publishes nothing twice."
            )
            return error.exit_code
        console.print(
            f"Sent {len(changes)} change(s) to {remote.url}: {sent['applied']} applied, "
            f"{sent['unchanged']} already there."
        )
        return code
    finally:
        copy.connection.close()


def announce_deployed(url: str, token: str) -> bool:
    """Tell the intake at `url` that the live site shows what was published, so that it
    sends the reply mail it held; False when none was held. Idempotent: a retry after a
    dropped connection sends nothing twice."""
    remote = RemoteInbox(url, token)
    try:
        return remote.send([{"kind": "deployed"}])["applied"] > 0
    finally:
        remote.close()


def run_remote_project(
    settings: ProjectSettings, command_line: CommandLine, url: str, token: str
) -> int:
    """Run the pipeline against the intake at `url` on this terminal (the task's way)."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    remote = RemoteInbox(url, token)
    try:
        return run_remote(settings, command_line, Console(), remote)
    finally:
        remote.close()
