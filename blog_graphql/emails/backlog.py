"""How far the outbox is behind: emails committed but not yet confirmed sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from blog_graphql.db.database import Database
from blog_graphql.emails.models import ENQUEUED, PENDING, OutboxEmail

WAITING = (PENDING, ENQUEUED)


@dataclass(frozen=True)
class Backlog:
    status: str
    count: int
    oldest: datetime | None


async def outbox_backlog(db: Database) -> list[Backlog]:
    """One row per waiting status (zero counts included), in one statement."""
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxEmail.status, func.count(), func.min(OutboxEmail.created_at))
            .where(OutboxEmail.status.in_(WAITING))
            .group_by(OutboxEmail.status)
        )
        found = {status: (count, oldest) for status, count, oldest in rows}
    return [Backlog(status, *found.get(status, (0, None))) for status in WAITING]
