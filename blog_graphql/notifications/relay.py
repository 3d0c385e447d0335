"""The notification relay: fan-outs and digests whose job was lost (a crash between the
commit and the hand-over, a broker outage) are handed over again, by every worker."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.jobs.relays import relay_loop
from blog_graphql.notifications import digest
from blog_graphql.notifications.fanout import CONFIRM_TIMEOUT, hand_over_fanout
from blog_graphql.notifications.models import NotificationFanout

logger = logging.getLogger("blog_graphql.notifications.relay")

BATCH_SIZE = 100


async def relay_once(db: Database, settings: Settings, *, now: datetime | None = None) -> int:
    """One pass: hand over due fan-outs, send overdue digests; return how many."""
    handed = 0
    for fanout_id in await _claim_due_fanouts(db, now or utcnow()):
        handed += await hand_over_fanout(fanout_id)
    for recipient in await digest.recipients_overdue(db, settings):
        await digest.send_digest(db, settings, recipient)
        handed += 1
    return handed


relay_forever = relay_loop("notification job", relay_once, logger)


async def _claim_due_fanouts(db: Database, now: datetime) -> list[int]:
    """Take due fan-outs: push their due time past the confirm timeout (one relay wins)."""
    due = (
        select(NotificationFanout.id)
        .where(NotificationFanout.done_at.is_(None), NotificationFanout.next_attempt_at <= now)
        .limit(BATCH_SIZE)
    )
    async with db.transaction() as session:
        claimed = await session.scalars(
            update(NotificationFanout)
            .where(NotificationFanout.id.in_(due), NotificationFanout.next_attempt_at <= now)
            .values(next_attempt_at=now + CONFIRM_TIMEOUT)
            .returning(NotificationFanout.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed)
