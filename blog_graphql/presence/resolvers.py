"""Presence: the `threadPresence` subscription and `setTyping`; translate and delegate."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.context import Info
from blog_graphql.presence.types import ThreadPresence
from blog_graphql.relay.ids import decode_id


@strawberry.type
class PresenceSubscription:
    @strawberry.subscription(
        description="Who is on the post's thread: the current state first, then every "
        "change, from every server instance. Subscribing counts the viewer as a reader "
        "until the subscription or its connection ends. NOT_FOUND if the viewer may not "
        "read the post, or once they no longer may."
    )
    async def thread_presence(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[ThreadPresence, None]:
        post = decode_id(post_id, "Post", "postId")
        presence = info.context.state.presence
        watching = presence.watch(info.context.live, info.context.viewer, post)
        async with aclosing(watching) as states:
            async for state in states:
                info.context.next_event()
                yield ThreadPresence.from_state(state)


@strawberry.type
class PresenceMutation:
    @strawberry.mutation(
        description="Say the viewer is writing a comment on the post (`typing: true`; it "
        "lapses after 6 seconds unless renewed) or stopped (`false`). Always true.",
        permission_classes=[IsAuthenticated],
    )
    async def set_typing(self, info: Info, post_id: strawberry.ID, typing: bool) -> bool:
        post = decode_id(post_id, "Post", "postId")
        presence = info.context.state.presence
        return await presence.set_typing(signed_in_user(info), post, typing)
