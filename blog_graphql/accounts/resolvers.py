"""Account queries and mutations: translate, delegate to the service, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts import service
from blog_graphql.accounts.types import User
from blog_graphql.context import Info
from blog_graphql.node import register_node


@register_node("User")
async def fetch_user(info: Info, pk: int) -> User | None:
    row = await info.context.loaders.user.load(pk)
    return User.from_row(row) if row else None


@strawberry.type
class AccountQuery:
    @strawberry.field(description="A user by username, ignoring case; null when there is none.")
    async def user(self, info: Info, username: str) -> User | None:
        row = await service.find_user_by_username(info.context.db, username)
        return User.from_row(row) if row else None

    @strawberry.field(description="The signed-in user; null when anonymous.")
    def me(self, info: Info) -> User | None:
        viewer = info.context.viewer
        return User.from_row(viewer) if viewer else None
