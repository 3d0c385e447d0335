"""Publish/subscribe: one hub per process fans events out to bounded per-subscriber queues.

The hub holds one broker subscription per active channel, shared by every local
subscriber of that channel; the broker (in-process, or Redis) carries events between
processes, and keeps the streams that can be replayed (`live.streams`). Delivery never
waits on a subscriber: one whose queue is full is dropped (its socket closed with
SLOW_CONSUMER) and the others carry on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson

from blog_graphql.engine import delivering
from blog_graphql.live import closecodes
from blog_graphql.live.streams import MemoryStreams, Replay, Retention, StreamId

logger = logging.getLogger("blog_graphql.live")

Event = dict[str, Any]
OnDrop = Callable[[int, str], None]


class BrokerUnavailable(Exception):
    """The broker cannot carry events right now (Redis is down or reconnecting)."""


class Receiver(Protocol):
    """What a broker hands incoming messages and connection losses to."""

    def deliver(self, channel: str, data: bytes) -> None: ...

    def interrupt(self) -> None: ...


class Broker(Protocol):
    """Carries messages between processes; `join` returns once a channel is listened to."""

    async def publish(self, channel: str, data: bytes) -> None: ...

    async def append(self, stream: str, channels: Sequence[str], data: bytes) -> str: ...

    async def read_after(self, stream: str, after: StreamId) -> Replay: ...

    async def join(self, channel: str) -> None: ...

    async def leave(self, channel: str) -> None: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """The broker without Redis: a published message goes straight to this process's hub."""

    def __init__(self, receiver: Receiver, retention: Retention | None = None) -> None:
        self._receiver = receiver
        self._streams = MemoryStreams(retention or Retention(), receiver.deliver)

    async def publish(self, channel: str, data: bytes) -> None:
        self._receiver.deliver(channel, data)

    async def append(self, stream: str, channels: Sequence[str], data: bytes) -> str:
        return self._streams.append(stream, channels, data)

    async def read_after(self, stream: str, after: StreamId) -> Replay:
        return self._streams.read_after(stream, after)

    async def join(self, channel: str) -> None:
        return None

    async def leave(self, channel: str) -> None:
        return None

    async def close(self) -> None:
        return None


class Subscriber:
    """One subscription's bounded queue of events.

    Not an `asyncio.Queue`: an idle subscription is the common case (thousands per
    instance), and a Queue holds four deques (3 KB) before its first event. Here an event
    goes straight to the waiting reader, and only a reader that falls behind gets a
    backlog.
    """

    __slots__ = ("_backlog", "_limit", "_on_drop", "_reader", "_shared", "dropped")

    def __init__(self, queue_size: int, on_drop: OnDrop, *, shared: bool = True) -> None:
        self._limit = queue_size
        self._on_drop = on_drop
        self._shared = shared
        self._backlog: deque[Event] | None = None
        self._reader: asyncio.Future[Event] | None = None  # `__anext__` waiting
        self.dropped: int | None = None

    def offer(self, event: Event) -> None:
        if self.dropped is not None:
            return
        reader = self._reader
        if reader is not None and not reader.done() and not self._backlog:
            self._reader = None
            reader.set_result(event)
            return
        if self._backlog is None:
            self._backlog = deque()
        if len(self._backlog) >= self._limit:
            self.drop(closecodes.SLOW_CONSUMER, "Too slow: events were dropped")
        else:
            self._backlog.append(event)

    def drop(self, code: int, reason: str) -> None:
        """Stop delivering and tell the owner (which closes the socket) once."""
        if self.dropped is not None:
            return
        self.dropped = code
        self._backlog = None  # free the backlog now, not when the socket is gone
        self._on_drop(code, reason)

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Event:
        if self.dropped is not None:
            # Its socket is closing; the operation is cancelled with it.
            await asyncio.Future()
        if self._backlog:
            event = self._backlog.popleft()
        else:
            self._reader = reader = asyncio.get_running_loop().create_future()
            try:
                event = await reader
            finally:
                if self._reader is reader:  # cancelled while waiting
                    self._reader = None
        if self._shared:
            # The same message for every local subscriber: what it yields is executed
            # once for all who would get the same answer (`engine/shared_events.py`).
            delivering(event)
        return event


class Channel:
    """A channel with local subscribers, and the task that joins it on the broker."""

    def __init__(self, name: str, joined: asyncio.Task[None]) -> None:
        self.name = name
        self.joined = joined
        self.subscribers: set[Subscriber] = set()


class PubSub:
    """The process's hub: publish to a channel, or subscribe to one with a bounded queue."""

    def __init__(
        self,
        broker_factory: Callable[[Receiver], Broker],
        *,
        prefix: str,
        queue_size: int,
        shared_execution: bool = True,
    ) -> None:
        self.prefix = prefix
        self.queue_size = queue_size
        self.shared_execution = shared_execution
        self._channels: dict[str, Channel] = {}
        self._broker = broker_factory(self)

    async def publish(self, channel: str, event: Event) -> None:
        """Send `event` to every subscriber of `channel` on every instance."""
        await self._broker.publish(self.prefix + channel, orjson.dumps(event))

    async def append(self, stream: str, channels: Sequence[str], event: Event) -> str:
        """Keep `event` on `stream` and send it, with its stream id as `"sid"`, to every
        subscriber of `channels` on every instance, in the stream's order; its id."""
        names = [self.prefix + channel for channel in channels]
        return await self._broker.append(self.prefix + stream, names, orjson.dumps(event))

    async def read_after(self, stream: str, after: StreamId) -> Replay:
        """What `stream` keeps after the id `after` (raises `StreamsUnavailable`)."""
        return await self._broker.read_after(self.prefix + stream, after)

    @asynccontextmanager
    async def subscribe(self, channel: str, on_drop: OnDrop) -> AsyncIterator[Subscriber]:
        """A subscriber that receives every event published after this returns."""
        subscriber = Subscriber(self.queue_size, on_drop, shared=self.shared_execution)
        joined = self._attach(self.prefix + channel, subscriber)
        try:
            try:
                await asyncio.shield(joined.joined)
            except BrokerUnavailable:
                subscriber.drop(closecodes.STREAM_INTERRUPTED, "Event stream unavailable")
            yield subscriber
        finally:
            await self._detach(joined, subscriber)

    def subscriber_count(self, channel: str) -> int:
        found = self._channels.get(self.prefix + channel)
        return len(found.subscribers) if found else 0

    def listening(self, channel: str) -> int:
        """Subscribers of `channel` certain to receive what is published from now on (the
        broker confirmed the channel): what a test waits for before it publishes."""
        found = self._channels.get(self.prefix + channel)
        if found is None or not found.joined.done() or _failed(found.joined):
            return 0
        return sum(1 for subscriber in found.subscribers if subscriber.dropped is None)

    def deliver(self, channel: str, data: bytes) -> None:
        """Called by the broker for each message: decoded once, offered to each subscriber."""
        found = self._channels.get(channel)
        if found is None:
            return
        event = orjson.loads(data)
        for subscriber in list(found.subscribers):
            subscriber.offer(event)

    def interrupt(self) -> None:
        """The broker lost its connection: every current subscriber may have missed events."""
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            for subscriber in list(channel.subscribers):
                subscriber.drop(closecodes.STREAM_INTERRUPTED, "Event stream interrupted")

    async def close(self) -> None:
        await self._broker.close()

    def _attach(self, name: str, subscriber: Subscriber) -> Channel:
        channel = self._channels.get(name)
        if channel is None or _failed(channel.joined):  # a failed join is retried afresh
            channel = Channel(name, asyncio.create_task(self._broker.join(name)))
            channel.joined.add_done_callback(_retrieve_exception)
            self._channels[name] = channel
        channel.subscribers.add(subscriber)
        return channel

    async def _detach(self, channel: Channel, subscriber: Subscriber) -> None:
        channel.subscribers.discard(subscriber)
        # After an interruption the map holds a newer Channel of that name (or none).
        if channel.subscribers or self._channels.get(channel.name) is not channel:
            return
        del self._channels[channel.name]
        try:
            await self._broker.leave(channel.name)
        except Exception:  # a lost connection drops the subscription anyway
            logger.warning("could not leave channel %s", channel.name, exc_info=True)


def _failed(task: asyncio.Task[None]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
