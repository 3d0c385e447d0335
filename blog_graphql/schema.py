"""The schema: every domain's root fields merged into Query, Mutation and Subscription."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from blog_graphql.accounts.resolvers import AccountMutation, AccountQuery
from blog_graphql.bookmarks.resolvers import BookmarkMutation
from blog_graphql.comments.resolvers import CommentMutation
from blog_graphql.comments.subscriptions import CommentSubscription
from blog_graphql.config.settings import Settings
from blog_graphql.context import Info
from blog_graphql.follows.resolvers import FollowMutation, FollowQuery
from blog_graphql.guards.extensions import hardened_schema
from blog_graphql.guards.ratelimit import RateLimiter
from blog_graphql.media.resolvers import MediaMutation
from blog_graphql.notifications.resolvers import (
    NotificationMutation,
    NotificationQuery,
    NotificationSubscription,
)
from blog_graphql.posts.resolvers import PostMutation, PostQuery
from blog_graphql.posts.subscriptions import PostSubscription
from blog_graphql.presence.resolvers import PresenceMutation, PresenceSubscription
from blog_graphql.reactions.resolvers import ReactionMutation
from blog_graphql.relay.node import Node, resolve_node
from blog_graphql.webhooks.resolvers import WebhookMutation, WebhookQuery


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Refetch any object by its global id; null if not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]


Query = merge_types(
    "Query", (AccountQuery, NodeQuery, PostQuery, FollowQuery, NotificationQuery, WebhookQuery)
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        PostMutation,
        CommentMutation,
        PresenceMutation,
        ReactionMutation,
        BookmarkMutation,
        FollowMutation,
        NotificationMutation,
        WebhookMutation,
        MediaMutation,
    ),
)
Subscription = merge_types(
    "Subscription",
    (CommentSubscription, PostSubscription, PresenceSubscription, NotificationSubscription),
)


def build_schema(
    settings: Settings | None = None,
    rate_limiter: RateLimiter | None = None,
    *,
    fast_execution: bool = True,
) -> strawberry.Schema:
    """The schema, guarded as `settings` say (default: development, no rate limiter).

    `fast_execution=False`: graphql-core's standard executor instead of ours (for tests).
    """
    return hardened_schema(
        settings,
        rate_limiter,
        fast_execution=fast_execution,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
    )


schema = build_schema()
