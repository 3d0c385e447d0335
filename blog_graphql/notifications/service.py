"""The viewer's notifications: a page of them, the unread count, marking them read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database, utcnow
from blog_graphql.db.keyset import Order, keyset_page, page_params
from blog_graphql.errors import InvalidInput
from blog_graphql.notifications.models import Notification
from blog_graphql.relay.pagination import Window

MAX_IDS = 100
# Newest first: ids grow with time, so the id alone is a total order.
NOTIFICATION_ORDER = Order((Notification.id,), descending=True)
NOTIFICATION_CURSOR = (int,)


def _mine(viewer: User, unread_only: bool) -> list[ColumnElement[bool]]:
    mine = [Notification.recipient_id == viewer.id]
    if unread_only:
        mine.append(Notification.read_at.is_(None))
    return mine


async def list_notifications(
    db: Database, viewer: User, *, window: Window, unread_only: bool
) -> Sequence[Notification]:
    """Newest first (by id, which grows with time), `size + 1` rows to tell if more follow;
    a backward page (`last`/`before`) nearest its cursor first."""
    query = keyset_page(
        select(Notification).where(*_mine(viewer, unread_only)),
        NOTIFICATION_ORDER,
        cursor=window.cursor is not None,
        backward=window.backward,
    )
    async with db.session() as session:
        return list(await session.scalars(query, page_params(NOTIFICATION_ORDER, window)))


async def count_notifications(db: Database, viewer: User, unread_only: bool) -> int:
    query = select(func.count()).select_from(Notification).where(*_mine(viewer, unread_only))
    async with db.session() as session:
        return int(await session.scalar(query) or 0)


async def unread_count(db: Database, viewer: User) -> int:
    return await count_notifications(db, viewer, unread_only=True)


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
