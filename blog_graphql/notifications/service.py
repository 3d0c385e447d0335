"""The viewer's notifications: a page of them, the unread count, marking them read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database, utcnow
from blog_graphql.errors import InvalidInput
from blog_graphql.notifications.models import Notification

MAX_IDS = 100


@dataclass(frozen=True)
class Page:
    rows: Sequence[Notification]
    total: int


async def list_notifications(
    db: Database, viewer: User, *, first: int, after_id: int | None, unread_only: bool
) -> Page:
    """Newest first (by id, which grows with time), `first + 1` rows to tell if more follow."""
    mine = [Notification.recipient_id == viewer.id]
    if unread_only:
        mine.append(Notification.read_at.is_(None))
    query = select(Notification).where(*mine).order_by(Notification.id.desc()).limit(first + 1)
    if after_id is not None:
        query = query.where(Notification.id < after_id)
    async with db.session() as session:
        rows = list(await session.scalars(query))
        total = await session.scalar(select(func.count()).select_from(Notification).where(*mine))
    return Page(rows, int(total or 0))


async def unread_count(db: Database, viewer: User) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient_id == viewer.id, Notification.read_at.is_(None))
        )
    return int(count or 0)


async def mark_read(db: Database, viewer: User, *, ids: Sequence[int] | None, all_: bool) -> int:
    """Mark the viewer's unread notifications read (those of `ids`, or all); return how
    many changed. Ids of someone else's notifications change nothing and count nothing."""
    if not all_ and ids is None:
        raise InvalidInput({"ids": "Give the ids to mark read, or all: true."})
    if ids is not None and len(ids) > MAX_IDS:
        raise InvalidInput({"ids": f"Give at most {MAX_IDS} ids at a time."})
    query = update(Notification).where(
        Notification.recipient_id == viewer.id, Notification.read_at.is_(None)
    )
    if not all_:
        query = query.where(Notification.id.in_(ids or []))
    async with db.transaction() as session:
        result = await session.execute(
            query.values(read_at=utcnow()).execution_options(synchronize_session=False)
        )
    return int(cast(CursorResult[Any], result).rowcount)
