"""Post and tag use cases; each owns its transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from blog_graphql.db import Database
from blog_graphql.posts.models import Tag


async def list_tags(db: Database) -> Sequence[Tag]:
    async with db.session() as session:
        return (await session.scalars(select(Tag).order_by(func.lower(Tag.name)))).all()
