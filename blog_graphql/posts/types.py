"""GraphQL shapes of posts and tags."""

from __future__ import annotations

import strawberry

from blog_graphql.ids import encode_id
from blog_graphql.node import Node
from blog_graphql.posts import models


@strawberry.type(description="A topic that posts are filed under.")
class Tag(Node):
    pk: strawberry.Private[int]
    name: str
    slug: str
    color: str = strawberry.field(description="A CSS hex colour such as `#3b82f6`.")

    @classmethod
    def from_row(cls, row: models.Tag) -> Tag:
        return cls(
            id=strawberry.ID(encode_id("Tag", row.id)),
            pk=row.id,
            name=row.name,
            slug=row.slug,
            color=row.color,
        )
