"""Batched reads of notifications, only ever the viewer's own."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.notifications.models import Notification


async def load_notifications(
    db: Database, viewer: User | None, ids: Sequence[int]
) -> list[Notification | None]:
    if viewer is None:
        return [None for _ in ids]
    async with db.session() as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.id.in_(ids), Notification.recipient_id == viewer.id
            )
        )
        by_id = {row.id: row for row in rows}
    return [by_id.get(id_) for id_ in ids]
