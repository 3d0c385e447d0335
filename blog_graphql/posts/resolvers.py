"""Post and tag queries and mutations: translate, delegate, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.context import Info
from blog_graphql.node import register_node
from blog_graphql.posts import service
from blog_graphql.posts.types import Tag


@register_node("Tag")
async def fetch_tag(info: Info, pk: int) -> Tag | None:
    row = await info.context.loaders.tag.load(pk)
    return Tag.from_row(row) if row else None


@strawberry.type
class PostQuery:
    @strawberry.field(description="Every tag, by name.")
    async def tags(self, info: Info) -> list[Tag]:
        return [Tag.from_row(row) for row in await service.list_tags(info.context.db)]
