"""The schema: every domain's root fields merged into Query, Mutation and Subscription."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from blog_graphql.accounts.resolvers import AccountQuery
from blog_graphql.context import Info
from blog_graphql.errors import MaskUnexpectedErrors
from blog_graphql.node import Node, resolve_node
from blog_graphql.posts.resolvers import PostQuery


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Refetch any object by its global id; null if not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]


Query = merge_types("Query", (AccountQuery, NodeQuery, PostQuery))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=[MaskUnexpectedErrors])


schema = build_schema()
