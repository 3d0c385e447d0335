"""One post's watchers on this instance: one read of the store per change, pushed to all.

A room listens to the post's presence channel (another instance, or this one, changed
something) and to its comment channel (the post was hidden). Each burst of changes costs
one store read and, when who types changed, one load of those users, whatever the
number of watchers; each watcher keeps only the newest state, so a slow one skips
states instead of queueing them. A timer re-reads the store when the earliest entry
lapses, so a typer who stops renewing disappears from every screen on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from blog_graphql.accounts.models import User
from blog_graphql.comments import events as comment_events
from blog_graphql.db.keyset import AnyRow
from blog_graphql.errors import NotFound
from blog_graphql.live import closecodes
from blog_graphql.live.pubsub import Event, PubSub
from blog_graphql.posts.queries import Readership
from blog_graphql.presence.coalescing import Coalesced
from blog_graphql.presence.store import Snapshot

logger = logging.getLogger("blog_graphql.presence")

# Re-read a moment after an entry's expiry, so the read no longer counts it.
LAPSE_MARGIN_SECONDS = 0.02
# After a failed read of the store, the next try.
RETRY_SECONDS = 1.0


def presence_channel(post_id: int) -> str:
    return f"presence:post:{post_id}"


@dataclass(frozen=True, eq=False)
class PresenceState:
    """What every watcher of the post is shown; a new object only when it changed."""

    readers: int
    typing_ids: tuple[int, ...]
    typing: Sequence[AnyRow | User]  # their user rows, by id (a deleted user left out)


class Watcher:
    """One `threadPresence` subscription: the newest state, or the error that ends it."""

    def __init__(self, viewer: User | None) -> None:
        self.viewer = viewer
        self.state: PresenceState | None = None
        self.ended: Exception | None = None
        self._fresh_after: float | None = None  # None: still arriving, nothing to show yet
        self._changed = asyncio.Event()

    def arrived(self) -> None:
        """Its reader entry is in the store: states read from now on count it."""
        self._fresh_after = asyncio.get_running_loop().time()

    def offer(self, state: PresenceState, read_at: float) -> None:
        first = self.state is None
        if self._fresh_after is None or (first and read_at < self._fresh_after):
            return  # a read begun before its arrival: its first state must count it
        if state is not self.state:
            self.state = state
            self._changed.set()

    def end(self, error: Exception) -> None:
        self.ended = error
        self._changed.set()

    async def states(self) -> AsyncIterator[PresenceState]:
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self.ended is not None:
                raise self.ended
            if self.state is not None:
                yield self.state


LoadUsers = Callable[[Sequence[int]], Awaitable[Sequence[AnyRow | User | None]]]
LoadReadership = Callable[[int], Awaitable[Readership | None]]


class Room:
    """A post's watchers on this instance and the two channels they need."""

    def __init__(
        self,
        post_id: int,
        *,
        pubsub: PubSub,
        read: Callable[[int], Awaitable[Snapshot]],
        load_users: LoadUsers,
        load_readership: LoadReadership,
        window: float,
        clock: Callable[[], float],
    ) -> None:
        self.post_id = post_id
        self.watchers: set[Watcher] = set()
        self.ready = asyncio.Event()
        self.broken = False  # its event stream broke: new watchers need a new room
        self._pubsub = pubsub
        self._read = read
        self._load_users = load_users
        self._load_readership = load_readership
        self._clock = clock
        self._state = PresenceState(readers=0, typing_ids=(), typing=())
        self._lapse: asyncio.TimerHandle | None = None
        self._refresh = Coalesced(f"presence of post {post_id}", self._read_and_push, window)
        self._joined = 0
        self._closed = False
        self._tasks = [
            asyncio.create_task(self._listen(presence_channel(post_id), self._on_presence)),
            asyncio.create_task(self._listen(comment_events.post_channel(post_id), self._on_post)),
        ]

    def changed(self) -> None:
        if not self._closed:
            self._refresh.poke()

    async def close(self) -> None:
        self._closed = True
        if self._lapse is not None:
            self._lapse.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        await self._refresh.close()

    async def _listen(self, channel: str, handle: Callable[[Event], None]) -> None:
        async with self._pubsub.subscribe(channel, self._dropped) as messages:
            self._joined += 1
            if self._joined == 2:  # the presence channel and the post's
                self.ready.set()
            async for message in messages:
                handle(message)

    def _dropped(self, code: int, reason: str) -> None:
        """The event stream broke (Redis went away): the watchers' sockets close as every
        subscriber's does, and their clients reconnect."""
        self.broken = True
        for watcher in list(self.watchers):
            watcher.end(StreamInterrupted(code, reason))

    def _on_presence(self, _message: Event) -> None:
        self.changed()

    def _on_post(self, message: Event) -> None:
        if message.get("kind") == comment_events.POST_HIDDEN:
            task = asyncio.create_task(self._end_hidden())
            self._tasks.append(task)

    async def _end_hidden(self) -> None:
        """The post was unpublished or deleted: watchers who may no longer read it end."""
        try:
            readership = await self._load_readership(self.post_id)
        except Exception:
            logger.exception("could not load post %s for its presence watchers", self.post_id)
            self._dropped(closecodes.STREAM_INTERRUPTED, "The post could not be loaded")
            return
        for watcher in list(self.watchers):
            if readership is None or not readership.readable_by(watcher.viewer):
                watcher.end(NotFound())

    async def _read_and_push(self) -> None:
        read_at = asyncio.get_running_loop().time()
        try:
            snapshot = await self._read(self.post_id)
            self._state = await self._state_of(snapshot)
        except Exception as error:  # Redis or the database away: the watchers keep their
            # state, and the room tries again
            logger.warning("presence of post %s: %s", self.post_id, type(error).__name__)
            self._schedule_lapse(self._clock() + RETRY_SECONDS)
            return
        for watcher in list(self.watchers):
            watcher.offer(self._state, read_at)
        self._schedule_lapse(snapshot.next_lapse)

    async def _state_of(self, snapshot: Snapshot) -> PresenceState:
        """The state to show: the previous object itself when nothing changed."""
        state = self._state
        if snapshot.typing != state.typing_ids:
            users = await self._load_users(snapshot.typing)
            typing = [user for user in users if user is not None]
            return PresenceState(snapshot.readers, snapshot.typing, typing)
        if snapshot.readers != state.readers:
            return PresenceState(snapshot.readers, snapshot.typing, state.typing)
        return state

    def _schedule_lapse(self, next_lapse: float | None) -> None:
        if self._lapse is not None:
            self._lapse.cancel()
            self._lapse = None
        if next_lapse is not None:
            delay = max(0.0, next_lapse - self._clock()) + LAPSE_MARGIN_SECONDS
            self._lapse = asyncio.get_running_loop().call_later(delay, self.changed)


class StreamInterrupted(Exception):
    """The room's event stream broke; its watchers' sockets close with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
