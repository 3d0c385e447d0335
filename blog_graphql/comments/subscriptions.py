"""Comment subscriptions: translate, delegate to the live feed, translate back.

Each event is resolved with fresh loaders (see `Context.next_event`), so a long-lived
subscription neither serves stale rows nor grows a cache; the comment comes with its
author, loaded once for every subscriber of the instance.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import partial

import strawberry

from blog_graphql.accounts import models as accounts
from blog_graphql.accounts.permissions import IsAdmin
from blog_graphql.accounts.types import User
from blog_graphql.comments import events, models
from blog_graphql.comments.changes import Change
from blog_graphql.comments.types import Comment, CommentEvent, CommentEventKind
from blog_graphql.context import Info
from blog_graphql.engine import shared_payload
from blog_graphql.relay.ids import decode_id, encode_id


def event_comment(info: Info, change: Change) -> Comment | None:
    """The change's comment as a payload: one object for every subscriber given the same
    change, so that they share the answer's key as well as its execution."""
    info.context.next_event()
    if change.comment is None:
        return None
    return shared_payload(change, partial(_comment_of, change.comment, change.author))


def _comment_of(row: models.Comment, author: accounts.User | None) -> Comment:
    return Comment.from_row(row, author=User.from_row(author) if author is not None else None)


def comment_event(info: Info, change: Change) -> CommentEvent:
    subject = "Post" if change.kind == events.RESET else "Comment"
    return CommentEvent(
        kind=CommentEventKind(change.kind),
        comment_id=strawberry.ID(encode_id(subject, change.comment_id)),
        comment=event_comment(info, change),
        cursor=change.cursor,
    )


@strawberry.type
class CommentSubscription:
    @strawberry.subscription(
        description="Every approved comment on the post from now on, written on any server "
        "instance: new ones, and pre-moderated ones once a moderator approves them. A "
        "draft's comments only to its author and admins (NOT_FOUND to others)."
    )
    async def comment_added(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        post = decode_id(post_id, "Post", "postId")
        feed = info.context.state.comment_feed
        async with aclosing(feed.added(info.context.live, info.context.viewer, post)) as changes:
            async for change in changes:
                comment = event_comment(info, change)
                assert comment is not None  # `added` yields visible comments only
                yield comment

    @strawberry.subscription(
        description="Every change to the post's comments that concerns the viewer: added, "
        "edited, deleted, approved and hidden. Comments the viewer may not see are left "
        "out; one they could see that is deleted or hidden comes with a null `comment`, "
        "so a live thread never keeps showing it. With `after`, the last `cursor` "
        "received, the events missed since come first, in order, then live ones (or "
        "`RESET` when they are no longer kept); a cursor not of this post's events is "
        "BAD_USER_INPUT."
    )
    async def comment_events(
        self, info: Info, post_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[CommentEvent, None]:
        post = decode_id(post_id, "Post", "postId")
        feed = info.context.state.comment_feed
        thread = feed.thread(info.context.live, info.context.viewer, post, after)
        async with aclosing(thread) as changes:
            async for change in changes:
                yield comment_event(info, change)

    @strawberry.subscription(
        description="Admins: comments waiting for approval (`ADDED` with `isApproved: "
        "false`, under COMMENT_MODERATION=pre), comments approved or hidden, and waiting "
        "ones deleted, on every post, so a moderation screen updates itself.",
        permission_classes=[IsAdmin],
    )
    async def comment_moderation(self, info: Info) -> AsyncGenerator[CommentEvent, None]:
        feed = info.context.state.comment_feed
        async with aclosing(feed.moderation(info.context.live)) as changes:
            async for change in changes:
                yield comment_event(info, change)
