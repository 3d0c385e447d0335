"""The webhook relay: hands over deliveries whose due attempt no message came for.

A delivery's row is the truth: `next_attempt_at` says when its next attempt is due. The
message enqueued after commit (or the delayed one a failed attempt leaves) normally sends
it; a crash, a lost in-memory queue or a broker outage leaves it overdue, and this picks it up.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from blog_graphql.db.database import Database, utcnow
from blog_graphql.jobs.relays import relay_loop
from blog_graphql.webhooks import outbox
from blog_graphql.webhooks.models import PENDING, WebhookDelivery

logger = logging.getLogger("blog_graphql.webhooks.relay")

BATCH_SIZE = 100
# A row handed over is not handed over again for this long: its message may be queued
# behind others, and a second one would only find it taken.
RELAY_AGAIN_AFTER = timedelta(minutes=10)


async def relay_due_deliveries(db: Database, *, now: datetime | None = None) -> int:
    """One pass: hand every overdue delivery to the broker; return how many were."""
    now = now or utcnow()
    total = 0
    while True:
        ids = await claim_overdue(db, now)
        handed = await outbox.enqueue_all(ids) if ids else 0
        total += handed
        if len(ids) < BATCH_SIZE or handed < len(ids):
            return total


relay_forever = relay_loop(
    "webhook delivery", lambda db, _settings: relay_due_deliveries(db), logger
)


async def claim_overdue(db: Database, now: datetime) -> list[int]:
    """Mark overdue rows relayed (one relay wins each row) and return their ids."""
    overdue = (
        (WebhookDelivery.status == PENDING)
        & (WebhookDelivery.next_attempt_at <= now - outbox.HANDOVER_GRACE)
        & (
            WebhookDelivery.relayed_at.is_(None)
            | (WebhookDelivery.relayed_at <= now - RELAY_AGAIN_AFTER)
        )
        & (WebhookDelivery.sending_until.is_(None) | (WebhookDelivery.sending_until < now))
    )
    due = (
        select(WebhookDelivery.id)
        .where(overdue)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH_SIZE)
    )
    async with db.transaction() as session:
        claimed = await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due), overdue)
            .values(relayed_at=now)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed.scalars())
