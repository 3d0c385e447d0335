"""Live post feeds: committed post changes out to pub/sub, and back in as each subscriber
may see them.

A message names a post and what happened to it (`posts.events`). Each instance loads the
post once per message for all its subscribers (`live.shared`); who sees what is then
decided in memory, from the post as it is now: a reader who may no longer see it hears
that it went, and their subscription ends with NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.errors import NotFound
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import Event
from blog_graphql.live.shared import shared_load
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.posts import events
from blog_graphql.posts.snapshot import PostSnapshot, load_post_snapshot

SeenKind = Literal["updated", "unpublished", "deleted", "commentCount", "reactions"]


@dataclass(frozen=True)
class PostSeen:
    """One change as one subscriber receives it."""

    kind: SeenKind
    snapshot: PostSnapshot | None  # None: the subscriber may no longer see the post


class PostWatch:
    """One subscriber of a post: what it may see of each change, and the comment count it
    was last told, so that a change to comments it cannot see tells it nothing."""

    def __init__(self, viewer: User | None, snapshot: PostSnapshot) -> None:
        self.viewer = viewer
        self.comment_count = snapshot.comment_count(viewer)

    def see(self, kind: str, snapshot: PostSnapshot | None) -> PostSeen | None:
        """`kind` of change as the viewer sees the post now; None if nothing for them."""
        if snapshot is None:
            return PostSeen("deleted", None)
        if not snapshot.readable_by(self.viewer):
            return PostSeen("unpublished", None)
        seen = self._seen_kind(kind, snapshot)
        if seen is None:
            return None
        self.comment_count = snapshot.comment_count(self.viewer)
        return PostSeen(seen, snapshot)

    def _seen_kind(self, kind: str, snapshot: PostSnapshot) -> SeenKind | None:
        if kind == events.COMMENT_COUNT:
            moved = snapshot.comment_count(self.viewer) != self.comment_count
            return "commentCount" if moved else None
        if kind == events.REACTIONS:
            return "reactions"
        if kind == "unpublished":  # unless it was published again since
            return None if snapshot.published else "unpublished"
        if kind in ("updated", "published"):
            return "updated"
        return None


async def comments_changed(hub: LiveHub, post_id: int) -> None:
    """Comment services' changes that may move the post's comment counts (published by
    the comment feed once committed): each watcher checks the count it sees."""
    message = events.message(events.COMMENT_COUNT, post_id)
    await hub.pubsub.publish(events.post_channel(post_id), message)


class PostFeed:
    """The services' `PostEvents` (publishing side) and the post subscriptions' source.

    `on_hidden` is also told of each post unpublished or deleted (the comment feed, which
    ends its own subscriptions of that post)."""

    def __init__(
        self,
        db: Database,
        hub: LiveHub,
        on_hidden: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self._hub = hub
        self._on_hidden = on_hidden

    async def post_changed(self, kind: events.PostChange, post_id: int) -> None:
        for channel in events.channels_of(kind, post_id):
            await self._hub.pubsub.publish(channel, events.message(kind, post_id))
        if kind in events.HIDING and self._on_hidden is not None:
            await self._on_hidden(post_id)

    async def reactions_changed(self, post_id: int) -> None:
        """The post's reactions changed (the reaction service, after commit)."""
        message = events.message(events.REACTIONS, post_id)
        await self._hub.pubsub.publish(events.post_channel(post_id), message)

    async def watch(
        self, socket: LiveSocket | None, viewer: User | None, post_id: int
    ) -> AsyncGenerator[PostSeen]:
        """`postEvents`: NOT_FOUND at once if the viewer may not read the post; then each
        change as they see it, and once they may no longer see it, that it went (without
        the post) followed by NOT_FOUND."""
        # Subscribed before the first read, so a change just after it is heard of.
        async with self._hub.subscribe(socket, events.post_channel(post_id)) as messages:
            snapshot = await load_post_snapshot(self._db, post_id)
            if snapshot is None or not snapshot.readable_by(viewer):
                raise NotFound()
            watch = PostWatch(viewer, snapshot)
            async for message in messages:
                seen = watch.see(message["kind"], await shared_load(message, messages, self._load))
                if seen is not None:
                    yield seen
                    if seen.snapshot is None:
                        raise NotFound()

    async def published(self, socket: LiveSocket | None) -> AsyncGenerator[PostSnapshot]:
        """`postPublished`: each post as it goes live, if it still is when it is read."""
        async with self._hub.subscribe(socket, events.PUBLISHED_CHANNEL) as messages:
            async for message in messages:
                snapshot = await shared_load(message, messages, self._load)
                if snapshot is not None and snapshot.published:
                    yield snapshot

    async def _load(self, message: Event) -> PostSnapshot | None:
        return await load_post_snapshot(self._db, int(message["id"]))
