"""Live comment feeds: committed changes out to pub/sub, and back in as each subscriber
may see them.

A message names a comment and what happened to it. The hub decodes it once per instance
and hands the same dict to every local subscriber of the channel; the first subscriber
to read it starts loading the comment with its author and leaves that task on the
message, and the others await the same task. So a thousand subscribers of one post
cost one statement per event on each instance; who may see what is then decided in
memory, from the comment as it is now (a comment edited and then hidden is hidden).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from blog_graphql.accounts.models import User
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.comments import events
from blog_graphql.comments.loaders import load_comment_with_author
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.errors import NotFound
from blog_graphql.live import closecodes
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import Event, Subscriber
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.posts import live as post_feed
from blog_graphql.posts.queries import Readership, post_is_visible, post_readership

logger = logging.getLogger("blog_graphql.comments.live")

# Where the shared load of a delivered message is kept, on the message itself.
LOADING = "_loading"
T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """One committed change as one subscriber receives it."""

    kind: events.EventKind
    comment_id: int
    comment: Comment | None  # None: gone, or not (any more) visible to this subscriber
    author: User | None
    was_approved: bool
    author_id: int


def seen_by(viewer: User | None, change: Change) -> Change | None:
    """The change as `viewer` may see it, or None if it does not concern them. A comment
    they may no longer see, but may have seen, still comes as its bare id, so that
    their view never keeps a hidden or deleted comment."""
    comment = change.comment
    if comment is None:
        saw_it = change.was_approved or is_owner_or_admin(viewer, change.author_id)
        return change if change.kind == "deleted" and saw_it else None
    if comment.is_approved or is_owner_or_admin(viewer, comment.author_id):
        return change
    if change.kind == "hidden":
        return replace(change, comment=None, author=None)
    return None


def newly_public(change: Change | None) -> Change | None:
    """`commentAdded`: an approved comment, new or just let through by a moderator."""
    if change is None or change.kind not in ("added", "approved") or change.comment is None:
        return None
    if not change.comment.is_approved or change.comment.deleted_at is not None:
        return None
    return change


async def _anyone() -> None:
    return None


class CommentFeed:
    """The services' `CommentEvents` (publishing side) and the subscriptions' source."""

    def __init__(self, db: Database, hub: LiveHub) -> None:
        self._db = db
        self._hub = hub

    async def comment_committed(self, kind: events.EventKind, comment: Comment) -> None:
        for channel in events.channels_of(kind, comment):
            await self._hub.pubsub.publish(channel, events.message(kind, comment))
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
        self, socket: LiveSocket | None, viewer: User | None, post_id: int
    ) -> AsyncGenerator[Change]:
        """`commentEvents`: every change on the post, as the viewer may see it."""
        return self._watch(
            socket,
            events.post_channel(post_id),
            lambda change: seen_by(viewer, change),
            allowed=partial(self._ensure_watchable, viewer, post_id),
            reader=viewer,
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
    ) -> AsyncGenerator[Change]:
        """`select`ed changes on `channel`; on a post's channel, NOT_FOUND (which ends the
        subscription) once the post was unpublished or deleted out of `reader`'s sight."""
        await allowed()
        async with self._hub.subscribe(socket, channel) as messages:
            async for message in messages:
                if message["kind"] == events.POST_HIDDEN:
                    readership = await self._shared_load(message, messages, self._load_post)
                    if readership is None or not readership.readable_by(reader):
                        raise NotFound()
                    continue
                change = await self._shared_load(message, messages, self._load)
                if (selected := select(change)) is not None:
                    yield selected

    async def _shared_load(
        self,
        message: Event,
        subscriber: Subscriber,
        load: Callable[[Event], Coroutine[Any, Any, T]],
    ) -> T:
        """What `load` makes of the message, run by the first of this instance's
        subscribers to read it and awaited by the others."""
        if LOADING not in message:
            message[LOADING] = _shared(load(message))
        try:
            loaded: T = await asyncio.shield(message[LOADING])
        except Exception:  # logged once by the load; every subscriber may miss this event
            subscriber.drop(closecodes.STREAM_INTERRUPTED, "An event could not be loaded")
            await asyncio.Future()  # its socket is closing; the operation is cancelled with it
            raise
        return loaded

    async def _load_post(self, message: Event) -> Readership | None:
        post_id = int(message["id"])
        try:
            return await post_readership(self._db, post_id)
        except Exception:
            logger.exception("could not load post %s for its subscribers", post_id)
            raise

    async def _load(self, message: Event) -> Change:
        comment_id = int(message["id"])
        try:
            loaded = await load_comment_with_author(self._db, comment_id)
        except Exception:
            logger.exception("could not load comment %s for its subscribers", comment_id)
            raise
        comment, author = loaded if loaded is not None else (None, None)
        return Change(
            kind=message["kind"],
            comment_id=comment_id,
            comment=comment,
            author=author,
            was_approved=bool(message["approved"]),
            author_id=int(message["authorId"]),
        )


def _shared(load: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(load)
    task.add_done_callback(_retrieve_exception)
    return task


def _retrieve_exception(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
