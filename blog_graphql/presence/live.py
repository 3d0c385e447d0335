"""Presence on posts' threads: readers come and go with their subscriptions, typers with
`setTyping`; the store holds both with expiries, the rooms push them to watchers.

Each instance keeps one reader entry per viewer and post it serves (however many
sockets carry that viewer) and refreshes its entries by heartbeat; the last
subscription of a viewer ending removes the entry. Every change is announced on the
post's presence channel, coalesced per window, and each instance's room re-reads the
store once per burst. Store writes for a post go through one lock on this instance, so
an entry removed and added again in quick succession ends up present.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from redis.asyncio import ConnectionPool, Redis

from blog_graphql.accounts.loaders import load_users
from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.errors import NotFound
from blog_graphql.live import closecodes
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.posts.queries import post_is_visible, post_readership
from blog_graphql.presence.coalescing import Announcer
from blog_graphql.presence.redis_store import RedisPresenceStore
from blog_graphql.presence.rooms import (
    PresenceState,
    Room,
    StreamInterrupted,
    Watcher,
    presence_channel,
)
from blog_graphql.presence.store import MemoryPresenceStore, PresenceStore, reader_entry

logger = logging.getLogger("blog_graphql.presence")

# At most one announcement per post, and one store read per room, in this window.
COALESCE_SECONDS = 0.15
# A reader entry not refreshed for this many heartbeats (its instance died) lapses.
HEARTBEATS_TO_LAPSE = 3
# On shutdown, how long removals already under way may take.
CLOSE_WAIT_SECONDS = 2.0


@dataclass
class LocalReaders:
    """This instance's reader entries on one post: how many subscriptions hold each."""

    holders: Counter[str] = field(default_factory=Counter)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Presence:
    def __init__(
        self,
        db: Database,
        hub: LiveHub,
        store: PresenceStore,
        *,
        typing_seconds: float,
        heartbeat_seconds: float,
        window: float = COALESCE_SECONDS,
    ) -> None:
        self.store = store
        self.typing_seconds = typing_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.instance = uuid.uuid4().hex[:16]
        self._db = db
        self._hub = hub
        self._rooms: dict[int, Room] = {}
        self._readers: dict[int, LocalReaders] = {}
        self._anonymous = itertools.count(1)
        self._window = window
        self._announcer = Announcer(self._publish, window)
        self._heartbeat: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    @classmethod
    def create(
        cls, settings: Settings, db: Database, hub: LiveHub, pool: ConnectionPool | None
    ) -> Presence:
        """In Redis (over the app's pool) when REDIS_URL is set, in memory otherwise."""
        store: PresenceStore = (
            RedisPresenceStore(Redis(connection_pool=pool), settings.pubsub_prefix)
            if pool is not None
            else MemoryPresenceStore()
        )
        return cls(
            db,
            hub,
            store,
            typing_seconds=settings.presence_typing_seconds,
            heartbeat_seconds=settings.presence_heartbeat_seconds,
        )

    async def watch(
        self, socket: LiveSocket | None, viewer: User | None, post_id: int
    ) -> AsyncGenerator[PresenceState]:
        """`threadPresence`: the viewer reads the thread while this runs; the current
        state first, then every change (NOT_FOUND if the post is not, or no longer,
        visible to them)."""
        if not await post_is_visible(self._db, viewer, post_id):
            raise NotFound()
        entry = reader_entry(self._viewer_key(socket, viewer), self.instance)
        room = self._room(post_id)
        watcher = Watcher(viewer)
        room.watchers.add(watcher)
        arrived = False
        try:
            await room.ready.wait()
            arrived = True
            await self._arrive(post_id, entry)
            watcher.arrived()
            room.changed()
            async for state in watcher.states():
                yield state
        except StreamInterrupted as interrupted:
            await _close(socket, interrupted)
            raise
        finally:
            if arrived:
                self._depart(post_id, entry)
            self._leave_room(room, watcher)

    async def set_typing(self, viewer: User, post_id: int, typing: bool) -> bool:
        """`setTyping`: the viewer types on the post's thread for `typing_seconds` unless
        renewed, or stopped typing."""
        if not await post_is_visible(self._db, viewer, post_id):
            raise NotFound()
        if typing:
            expires_at = self.store.clock() + self.typing_seconds
            changed = await self.store.start_typing(post_id, viewer.id, expires_at)
        else:
            changed = await self.store.stop_typing(post_id, viewer.id)
        if changed:
            self._announcer.announce(post_id)
        return True

    async def close(self) -> None:
        """Stop; this instance's readers leave the store now rather than by lapsing."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        rooms, self._rooms = list(self._rooms.values()), {}
        for room in rooms:
            await room.close()
        if self._background:  # removals of readers whose sockets just closed
            await asyncio.wait(self._background, timeout=CLOSE_WAIT_SECONDS)
        for post_id, readers in list(self._readers.items()):
            for entry in list(readers.holders):
                with suppress(Exception):
                    await self.store.remove_reader(post_id, entry)
            self._announcer.announce(post_id)
        await self._announcer.close()
        for task in list(self._background):
            task.cancel()
        await self.store.close()

    def _viewer_key(self, socket: LiveSocket | None, viewer: User | None) -> str:
        """A signed-in user once wherever they read; each anonymous socket once (a
        subscription without a socket counts as one)."""
        if viewer is not None:
            return f"u:{viewer.id}"
        number = id(socket) if socket is not None else next(self._anonymous)
        return f"s:{self.instance}:{'w' if socket is not None else 'o'}{number}"

    def _room(self, post_id: int) -> Room:
        room = self._rooms.get(post_id)
        if room is None or room.broken:  # a broken room's watchers are on their way out
            room = Room(
                post_id,
                pubsub=self._hub.pubsub,
                read=self.store.snapshot,
                load_users=partial(load_users, self._db),
                load_readership=partial(post_readership, self._db),
                window=self._window,
                clock=self.store.clock,
            )
            self._rooms[post_id] = room
        return room

    def _leave_room(self, room: Room, watcher: Watcher) -> None:
        room.watchers.discard(watcher)
        if not room.watchers:
            if self._rooms.get(room.post_id) is room:
                del self._rooms[room.post_id]
            self._spawn(room.close())

    async def _arrive(self, post_id: int, entry: str) -> None:
        readers = self._readers.setdefault(post_id, LocalReaders())
        readers.holders[entry] += 1
        first = readers.holders[entry] == 1
        async with readers.lock:
            try:
                await self.store.add_reader(post_id, entry, self._reader_expiry())
            except Exception as error:  # Redis away: the client reconnects later
                logger.warning("presence: cannot add a reader: %s", type(error).__name__)
                raise StreamInterrupted(
                    closecodes.STREAM_INTERRUPTED, "Presence unavailable"
                ) from None
        self._start_heartbeat()
        if first:
            self._announcer.announce(post_id)

    def _depart(self, post_id: int, entry: str) -> None:
        """Runs in `finally` (a cancelled task): the bookkeeping now, the store later."""
        readers = self._readers[post_id]
        readers.holders[entry] -= 1
        if readers.holders[entry] <= 0:
            del readers.holders[entry]
            self._spawn(self._remove_reader(post_id, entry, readers))

    async def _remove_reader(self, post_id: int, entry: str, readers: LocalReaders) -> None:
        async with readers.lock:
            if readers.holders[entry] > 0:
                return  # the viewer came back meanwhile: its entry stays
            await self.store.remove_reader(post_id, entry)
            if not readers.holders and self._readers.get(post_id) is readers:
                del self._readers[post_id]
        self._announcer.announce(post_id)

    def _reader_expiry(self) -> float:
        return self.store.clock() + self.heartbeat_seconds * HEARTBEATS_TO_LAPSE

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat_forever())

    async def _beat_forever(self) -> None:
        while self._readers:
            await asyncio.sleep(self.heartbeat_seconds)
            entries = {post: list(readers.holders) for post, readers in self._readers.items()}
            try:
                await self.store.refresh_readers(entries, self._reader_expiry())
            except Exception:  # Redis away: the next beat tries again
                logger.warning("presence: heartbeat failed", exc_info=True)

    async def _publish(self, post_id: int) -> None:
        await self._hub.pubsub.publish(presence_channel(post_id), {"post": post_id})

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.warning("presence: %s", error, exc_info=error)


async def _close(socket: LiveSocket | None, interrupted: StreamInterrupted) -> None:
    """Close the socket as every subscriber's is on a broken stream; without a socket
    the subscription ends with the error."""
    if socket is not None:
        socket.close_soon(interrupted.code, interrupted.reason)
        await asyncio.Future()  # the operation is cancelled with its socket
