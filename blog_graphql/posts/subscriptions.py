"""Post subscriptions: translate, delegate to the live post feed, translate back.

Each event is resolved with fresh loaders (see `Context.next_event`); the post comes with
its body, author, tags and comment counts, read once for every subscriber of the instance.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from enum import Enum

import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.context import Info
from blog_graphql.posts.snapshot import PostSnapshot
from blog_graphql.posts.types import Post
from blog_graphql.relay.ids import decode_id


@strawberry.enum(description="What happened to a watched post.")
class PostEventKind(Enum):
    UPDATED = strawberry.enum_value(
        "updated",
        description="Its title, content, excerpt or tags changed, or it was published "
        "again: `post` is the post as it is now.",
    )
    UNPUBLISHED = strawberry.enum_value(
        "unpublished",
        description="It went back to being a draft. To its author and admins `post` is the "
        "draft and the subscription goes on; to others `post` is null and the "
        "subscription then ends with NOT_FOUND.",
    )
    DELETED = strawberry.enum_value(
        "deleted",
        description="It was deleted: `post` is null and the subscription then ends with NOT_FOUND.",
    )
    COMMENT_COUNT = strawberry.enum_value(
        "commentCount",
        description="The number of comments the viewer sees changed (a comment added, "
        "approved, hidden or deleted): `post.commentCount` is the new count.",
    )
    REACTIONS = strawberry.enum_value(
        "reactions",
        description="Someone reacted to the post or took a reaction back: "
        "`post.reactions` holds the new counts.",
    )


@strawberry.type(description="A change to a post, as the subscriber may see it.")
class PostEvent:
    kind: PostEventKind
    post: Post | None = strawberry.field(
        description="The post as the viewer sees it now; null once they may no longer see it."
    )


def event_post(info: Info, snapshot: PostSnapshot) -> Post:
    """The post as the subscription's viewer sees it, with fresh loaders for its fields."""
    info.context.next_event()
    row, viewer = snapshot.row, info.context.viewer
    author = User.from_author_columns(row)
    return Post.from_row(row, author, snapshot.comment_count(viewer), row.tag_list)


@strawberry.type
class PostSubscription:
    @strawberry.subscription(
        description="Changes to the post from now on, made on any server instance: "
        "UPDATED, UNPUBLISHED, DELETED, COMMENT_COUNT and REACTIONS. A post the viewer may "
        "not read is NOT_FOUND; once they may no longer read it they get UNPUBLISHED or "
        "DELETED with a null `post`, then the subscription ends with NOT_FOUND."
    )
    async def post_events(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[PostEvent, None]:
        post = decode_id(post_id, "Post", "postId")
        feed = info.context.state.post_feed
        async with aclosing(feed.watch(info.context.live, info.context.viewer, post)) as seen:
            async for event in seen:
                yield PostEvent(
                    kind=PostEventKind(event.kind),
                    post=event_post(info, event.snapshot) if event.snapshot else None,
                )

    @strawberry.subscription(
        description="Each post as it goes live, from any server instance: a first "
        'publication, or a draft published again. For anyone, signed in or not (a "new '
        'posts" banner, say).'
    )
    async def post_published(self, info: Info) -> AsyncGenerator[Post, None]:
        feed = info.context.state.post_feed
        async with aclosing(feed.published(info.context.live)) as snapshots:
            async for snapshot in snapshots:
                yield event_post(info, snapshot)
