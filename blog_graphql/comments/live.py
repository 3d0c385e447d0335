"""Live comment feeds: committed changes out to pub/sub, and back in as each subscriber
may see them.

A message names a comment and what happened to it. The hub decodes it once per instance
and hands the same dict to every local subscriber of the channel; the first subscriber
to read it starts loading the comment with its author and leaves that task on the
message, and the others await the same task. So a thousand subscribers of one post
cost one statement per event on each instance; who may see what is then decided in
memory, from the comment as it is now (a comment edited and then hidden is hidden).

Publishing is appending to the post's stream (`live.streams`), which carries the change
to every instance with its stream id, so `commentEvents(after:)` can replay what a
client missed: it subscribes first, reads the stream after its cursor, sends what it
missed, then the live events newer than the last one it read (none lost, none twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from functools import partial

from blog_graphql.accounts.models import User
from blog_graphql.comments import events
from blog_graphql.comments.changes import Change, change_of, newly_public, seen_by
from blog_graphql.comments.cursors import EventCursors
from blog_graphql.comments.loaders import load_comment_with_author
from blog_graphql.comments.models import Comment
from blog_graphql.comments.replay import Missed, missed_since
from blog_graphql.db.database import Database
from blog_graphql.errors import NotFound
from blog_graphql.live import closecodes
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import Event, Subscriber
from blog_graphql.live.shared import shared_load
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.live.streams import StreamId, parse_stream_id
from blog_graphql.posts import live as post_feed
from blog_graphql.posts.queries import Readership, post_is_visible, post_readership

logger = logging.getLogger("blog_graphql.comments.live")


async def _anyone() -> None:
    return None


class CommentFeed:
    """The services' `CommentEvents` (publishing side) and the subscriptions' source."""

    def __init__(self, db: Database, hub: LiveHub, cursors: EventCursors) -> None:
        self._db = db
        self._hub = hub
        self._cursors = cursors

    async def comment_committed(self, kind: events.EventKind, comment: Comment) -> None:
        stream = events.post_stream(comment.post_id)
        channels = events.channels_of(kind, comment)
        await self._hub.pubsub.append(stream, channels, events.message(kind, comment))
        if kind != "edited":  # every other change may move a comment count of the post
            await post_feed.comments_changed(self._hub, comment.post_id)

    async def post_hidden(self, post_id: int) -> None:
        """Told by the post feed (`PostFeed.on_hidden`): a post was unpublished or deleted."""
        await self._hub.pubsub.publish(
            events.post_channel(post_id), events.post_hidden_message(post_id)
        )

    def added(
        self, socket: LiveSocket | None, viewer: User | None, post_id: int
    ) -> AsyncGenerator[Change]:
        """`commentAdded`: approved comments, new or just let through (NOT_FOUND first if
        the viewer may not read the post)."""
        return self._watch(
            socket,
            events.post_channel(post_id),
            lambda change: newly_public(seen_by(viewer, change)),
            allowed=partial(self._ensure_watchable, viewer, post_id),
            reader=viewer,
        )

    def thread(
        self,
        socket: LiveSocket | None,
        viewer: User | None,
        post_id: int,
        after: str | None = None,
    ) -> AsyncGenerator[Change]:
        """`commentEvents`: every change on the post, as the viewer may see it; with a
        cursor (BAD_USER_INPUT unless one of this post's), first those missed since."""
        resume = self._cursors.decode(post_id, after) if after is not None else None
        return self._watch(
            socket,
            events.post_channel(post_id),
            lambda change: seen_by(viewer, change),
            allowed=partial(self._ensure_watchable, viewer, post_id),
            reader=viewer,
            missed=partial(self._missed, post_id, resume) if resume is not None else None,
        )

    def moderation(self, socket: LiveSocket | None) -> AsyncGenerator[Change]:
        """For admins, who see every comment: everything on the moderation channel."""
        return self._watch(socket, events.MODERATION_CHANNEL, lambda change: change)

    async def _ensure_watchable(self, viewer: User | None, post_id: int) -> None:
        """A post's thread is watched by those who may read it: NOT_FOUND otherwise."""
        if not await post_is_visible(self._db, viewer, post_id):
            raise NotFound()

    async def _watch(
        self,
        socket: LiveSocket | None,
        channel: str,
        select: Callable[[Change], Change | None],
        allowed: Callable[[], Awaitable[None]] = _anyone,
        reader: User | None = None,
        missed: Callable[[Subscriber], Awaitable[Missed]] | None = None,
    ) -> AsyncGenerator[Change]:
        """`select`ed changes on `channel`, those `missed` first; on a post's channel,
        NOT_FOUND (which ends the subscription) once the post was unpublished or deleted
        out of `reader`'s sight."""
        async with self._hub.subscribe(socket, channel) as messages:
            # Subscribed before the check, so a post hidden just after it is heard of here;
            # and before the replay, so what comes after the replay waits in the queue.
            await allowed()
            replayed = await missed(messages) if missed is not None else None
            heard_up_to: StreamId | None = replayed.up_to if replayed is not None else None
            for change in replayed.changes if replayed is not None else ():
                if (selected := select(change)) is not None:
                    yield selected
            async for message in messages:
                if message["kind"] == events.POST_HIDDEN:
                    readership = await shared_load(message, messages, self._load_post)
                    if readership is None or not readership.readable_by(reader):
                        raise NotFound()
                    continue
                # Events come in stream order: skip those replayed, up to the first newer one.
                if heard_up_to is not None and "sid" in message:
                    if parse_stream_id(message["sid"]) <= heard_up_to:
                        continue
                    heard_up_to = None
                change = await shared_load(message, messages, self._load)
                if (selected := select(change)) is not None:
                    yield selected

    async def _missed(self, post_id: int, after: StreamId, subscriber: Subscriber) -> Missed:
        try:
            return await missed_since(self._db, self._hub.pubsub, self._cursors, post_id, after)
        except Exception:
            logger.exception("could not read the missed events of post %s", post_id)
            subscriber.drop(closecodes.STREAM_INTERRUPTED, "Missed events could not be read")
            await asyncio.Future()  # its socket is closing; the operation is cancelled with it
            raise

    async def _load_post(self, message: Event) -> Readership | None:
        return await post_readership(self._db, int(message["id"]))

    async def _load(self, message: Event) -> Change:
        loaded = await load_comment_with_author(self._db, int(message["id"]))
        return change_of(message, loaded, self._cursors)
