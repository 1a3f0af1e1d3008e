"""What issue 14 adds to the work of the intake and `invoke moderate`, on this machine.

1. The crisis-language rule, now asked synchronously on every comment the intake takes:
   CPU and wall time per comment, on comment texts of a usual length (and at the limit).
2. Sending from the outbox: N queued messages delivered over STARTTLS with a login to a
   real SMTP server on loopback (aiosmtpd, from the test support), in batches of
   `outbox.CLAIM_BATCH` per session; messages per second, CPU beside wall time.

    .venv/bin/python benchmarks/notify_mail.py [--comments 20000] [--mails 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation import inbox, mail, outbox  # noqa: E402
from moderation.intake.care import needs_care  # noqa: E402
from moderation.notify import compose  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

USUAL = (
    "I read this on the bus and had to put my phone down for a while. The part about "
    "texting after nine rang true: I used to do it every night, and then we agreed on a "
    "rule, and the evenings got quieter. Thank you for writing it down. "
)


def timed(work) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def rule_cost(comments: int) -> None:
    for label, text in (
        ("usual (~230 chars)", USUAL),
        ("at the limit (10,000)", (USUAL * 44)[:10_000]),
    ):
        wall, cpu = timed(lambda text=text: [needs_care(text) for _ in range(comments)])
        print(
            f"crisis rule, {label}: {comments} comments, "
            f"{wall / comments * 1e6:.1f} µs wall, {cpu / comments * 1e6:.1f} µs CPU per comment"
        )


def delivery(mails: int) -> None:
    with tempfile.TemporaryDirectory() as folder, SmtpServer(Path(folder)) as server:
        os.environ.update(server.environment())
        settings = mail.SmtpSettings.from_environment(os.environ)
        assert settings is not None
        connection = inbox.connect(Path(folder) / "inbox.sqlite3")
        with inbox.transaction(connection):
            for number in range(mails):
                message = compose(
                    "Between Sessions <blog@example.org>",
                    f"reader{number}@example.org",
                    "Ash replied to your comment",
                    USUAL,
                )
                outbox.enqueue(
                    connection, "reply", f"reader{number}@example.org", message.as_string()
                )

        def send_all() -> None:
            while mail.deliver_due(connection, settings).sent:
                pass

        wall, cpu = timed(send_all)
        server.wait_for(mails)
        print(
            f"delivery: {mails} mails over STARTTLS in {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(this process; the server runs in it too): {mails / wall:.0f} mails/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--mails", type=int, default=500)
    arguments = parser.parse_args()
    rule_cost(arguments.comments)
    delivery(arguments.mails)


if __name__ == "__main__":
    main()
