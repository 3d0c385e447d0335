"""The Redis broker: one pub/sub connection per process that reconnects by itself.

redis-py would silently reconnect and resubscribe a pub/sub connection, hiding the
messages lost meanwhile. Here the connection never retries: any failure drops it, every
local subscriber is told (their sockets close with STREAM_INTERRUPTED, so clients
reconnect and refetch), and a fresh connection is opened with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisPubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from blog_graphql.live.pubsub import BrokerUnavailable, Receiver
from blog_graphql.live.redis_streams import RedisStreams
from blog_graphql.live.streams import Replay, Retention, StreamId

logger = logging.getLogger("blog_graphql.live.redis")

# A quiet connection is pinged this often; no answer by the next tick means it is dead.
HEARTBEAT_SECONDS = 5.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
CONNECTION_ERRORS = (RedisError, OSError)


class RedisBroker:
    """Publishes and keeps streams on a pooled client; listens on one dedicated pub/sub
    connection."""

    def __init__(
        self,
        url: str,
        receiver: Receiver,
        *,
        home_channel: str,
        wait_seconds: float = 5.0,
        retention: Retention | None = None,
    ) -> None:
        self._publisher = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._streams = RedisStreams(self._publisher, retention or Retention())
        self._listening_client = Redis.from_url(
            url,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
            client_name=home_channel,  # lets an operator find it in CLIENT LIST
        )
        self._receiver = receiver
        # Always subscribed to, so a dropped connection is noticed even with no channels.
        self._home_channel = home_channel
        self._wait_seconds = wait_seconds
        self._pubsub: RedisPubSub | None = None
        self._connected = asyncio.Event()
        self._confirmations: defaultdict[str, deque[asyncio.Future[None]]] = defaultdict(deque)
        self._listener: asyncio.Task[None] | None = None

    async def publish(self, channel: str, data: bytes) -> None:
        await self._publisher.publish(channel, data)

    async def append(self, stream: str, channels: Sequence[str], data: bytes) -> str:
        return await self._streams.append(stream, channels, data)

    async def read_after(self, stream: str, after: StreamId) -> Replay:
        return await self._streams.read_after(stream, after)

    async def join(self, channel: str) -> None:
        """Subscribe and wait for Redis to confirm, so no later message can be missed."""
        pubsub = await self._connection()
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[channel].append(confirmed)
        try:
            await pubsub.subscribe(channel)
            await asyncio.wait_for(confirmed, self._wait_seconds)
        except (*CONNECTION_ERRORS, TimeoutError) as error:
            raise BrokerUnavailable(f"cannot subscribe: {type(error).__name__}") from None
        finally:
            with suppress(ValueError):
                self._confirmations[channel].remove(confirmed)

    async def leave(self, channel: str) -> None:
        if self._pubsub is not None and self._connected.is_set():
            await self._pubsub.unsubscribe(channel)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        await self._publisher.aclose()
        await self._listening_client.aclose()

    async def _connection(self) -> RedisPubSub:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen_forever())
        try:
            await asyncio.wait_for(self._connected.wait(), self._wait_seconds)
        except TimeoutError:
            raise BrokerUnavailable("Redis is unreachable") from None
        assert self._pubsub is not None
        return self._pubsub

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._pump(await self._open())
            except CONNECTION_ERRORS as error:
                logger.warning("pub/sub connection lost: %s", error or type(error).__name__)
            finally:
                await self._lost()
            failures = failures + 1 if not self._was_healthy else 1
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS)) - 1])

    async def _open(self) -> RedisPubSub:
        self._was_healthy = False
        pubsub = self._listening_client.pubsub()
        self._pubsub = pubsub
        await pubsub.subscribe(self._home_channel)
        message = await pubsub.get_message(timeout=self._wait_seconds)
        if message is None or message["type"] != "subscribe":
            raise ConnectionError("no subscription confirmation from Redis")
        self._was_healthy = True
        self._connected.set()
        logger.info("pub/sub connection ready")
        return pubsub

    async def _pump(self, pubsub: RedisPubSub) -> None:
        await pump(pubsub, self._handle, HEARTBEAT_SECONDS)

    def _handle(self, message: dict[str, Any]) -> None:
        channel = _text(message["channel"])
        if message["type"] == "message":
            self._receiver.deliver(channel, message["data"])
        elif message["type"] == "subscribe":
            waiting = self._confirmations.get(channel)
            # Redis confirms subscriptions in the order they were asked for.
            if waiting:
                waiting.popleft().set_result(None)

    async def _lost(self) -> None:
        self._connected.clear()
        pubsub, self._pubsub = self._pubsub, None
        for waiting in self._confirmations.values():
            for future in waiting:
                if not future.done():
                    future.set_exception(BrokerUnavailable("connection lost"))
        self._confirmations.clear()
        self._receiver.interrupt()
        if pubsub is not None:
            with suppress(*CONNECTION_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    _was_healthy = False


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def pump(
    pubsub: RedisPubSub, handle: Callable[[dict[str, Any]], None], heartbeat_seconds: float
) -> None:
    """Hand each message of `pubsub` to `handle`, forever. A quiet connection is pinged
    every `heartbeat_seconds`; an unanswered ping raises ConnectionError, since a half-open
    TCP connection would otherwise look like a quiet one."""
    pinged = False
    while True:
        message = await pubsub.get_message(timeout=heartbeat_seconds)
        if message is None:
            if pinged:
                raise ConnectionError("Redis did not answer a ping")
            await pubsub.ping()
            pinged = True
            continue
        pinged = False
        handle(message)
