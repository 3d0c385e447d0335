"""The outbox relay: hands over rows that were never handed over or never confirmed sent."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails import outbox
from blog_graphql.emails.models import UNFINISHED, OutboxEmail
from blog_graphql.emails.outbox import CONFIRM_TIMEOUT, EmailRef
from blog_graphql.jobs.relays import relay_loop

logger = logging.getLogger("blog_graphql.emails.relay")

BATCH_SIZE = 100


async def relay_due_emails(db: Database, *, now: datetime | None = None) -> int:
    """One pass: hand every due row to the broker, a batch at a time; return how many."""
    handed_total = 0
    while True:
        handed, claimed = await _relay_batch(db, now or utcnow())
        handed_total += handed
        if claimed < BATCH_SIZE or handed < claimed:
            return handed_total


relay_forever = relay_loop("email", lambda db, _settings: relay_due_emails(db), logger)


async def _relay_batch(db: Database, now: datetime) -> tuple[int, int]:
    async with db.transaction() as session:
        refs = await claim_due(session, now)
    if not refs:
        return 0, 0
    return await outbox.hand_over(db, refs, now=now), len(refs)


async def claim_due(session: AsyncSession, now: datetime) -> list[EmailRef]:
    """Take due rows for this relay: push their due time past the confirm timeout.

    Several workers run a relay each; the conditional update lets one of them win a row.
    """
    due = (
        select(OutboxEmail.id)
        .where(OutboxEmail.status.in_(UNFINISHED), OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at)
        .limit(BATCH_SIZE)
    )
    claimed = await session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(due),
            OutboxEmail.status.in_(UNFINISHED),
            OutboxEmail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CONFIRM_TIMEOUT)
        .returning(OutboxEmail.id, OutboxEmail.idempotency_key, OutboxEmail.request_id)
        .execution_options(synchronize_session=False)
    )
    return sorted((EmailRef(*row) for row in claimed), key=lambda ref: ref.id)
