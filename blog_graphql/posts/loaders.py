"""Batched reads of tags and posts, one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from blog_graphql.db import Database
from blog_graphql.posts.models import Tag


async def load_tags(db: Database, ids: Sequence[int]) -> list[Tag | None]:
    async with db.session() as session:
        rows = await session.scalars(select(Tag).where(Tag.id.in_(ids)))
        by_id = {tag.id: tag for tag in rows}
    return [by_id.get(id_) for id_ in ids]
