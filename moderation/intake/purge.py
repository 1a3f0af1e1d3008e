"""The purge of private details where the inbox lives: at the intake's start and daily
(the rate limits' old events go with them).

With the intake on a server and moderation on a laptop, the laptop only ever holds a
copy in memory; the inbox's email, IP and user agent are forgotten here,
MODERATION["PURGE_AFTER_DAYS"] after a decision, as `invoke moderate` does locally.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from moderation import inbox

if TYPE_CHECKING:
    from moderation.intake.app import Intake

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600


def purge_cutoff(days: int) -> str:
    """The decision time before which private details are forgotten, as the inbox stores times."""
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0).isoformat()


async def purge_daily(intake: Intake) -> None:
    """Purge now, then every day, until cancelled (the intake stopping)."""
    days = intake.settings.moderation.purge_after_days
    while True:
        try:
            purged = await intake.writer.write(
                partial(inbox.purge_private_details, decided_before=purge_cutoff(days))
            )
            log.info("intake: purged the private details of %d comment(s)", purged)
            await intake.writer.write(intake.forget_expired_rate_events)
        except Exception:
            # A busy or broken inbox is logged; the next day tries again.
            log.exception("intake: the purge failed")
        await asyncio.sleep(DAY_SECONDS)
