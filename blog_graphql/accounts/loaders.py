"""Batched reads of users, one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db import Database


async def load_users(db: Database, ids: Sequence[int]) -> list[User | None]:
    async with db.session() as session:
        rows = await session.scalars(select(User).where(User.id.in_(ids)))
        by_id = {user.id: user for user in rows}
    return [by_id.get(id_) for id_ in ids]
