"""Follow mutations and the following feed: translate, delegate, translate back."""

from __future__ import annotations

from functools import partial

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.accounts.types import User
from blog_graphql.context import Info
from blog_graphql.follows import queries, service
from blog_graphql.posts.loaders import FEED_CURSOR, feed_key
from blog_graphql.posts.types import Post, PostConnection
from blog_graphql.relay.pagination import build_connection, page_window


@strawberry.type
class FollowQuery:
    @strawberry.field(
        description="Published posts by the authors the viewer follows, newest first by "
        "publishedAt, ties by id. Signed-in only.",
        permission_classes=[IsAuthenticated],
    )
    async def following_feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PostConnection:
        window = page_window(FEED_CURSOR, first=first, after=after, last=last, before=before)
        db, viewer = info.context.db, signed_in_user(info)
        rows = await queries.following_feed(db, viewer, window)
        return build_connection(
            rows, window=window, key=feed_key, node=Post.from_card,
            count=partial(queries.count_following_feed, db, viewer),
        )  # fmt: skip


@strawberry.type
class FollowMutation:
    @strawberry.mutation(
        description="Follow a user (again: no change); oneself is BAD_USER_INPUT.",
        permission_classes=[IsAuthenticated],
    )
    async def follow_user(self, info: Info, username: str) -> User:
        user = await service.follow_user(info.context.db, signed_in_user(info), username)
        return User.from_row(user)

    @strawberry.mutation(
        description="Stop following a user (nothing if not followed).",
        permission_classes=[IsAuthenticated],
    )
    async def unfollow_user(self, info: Info, username: str) -> User:
        user = await service.unfollow_user(info.context.db, signed_in_user(info), username)
        return User.from_row(user)
