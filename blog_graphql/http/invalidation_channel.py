"""The response cache's pub/sub channel: other instances' invalidations, and whether we
can hear them at all.

One dedicated connection that never reconnects silently (as `live.redis_broker` does for
subscriptions): a quiet connection is pinged every HEARTBEAT_SECONDS and counted lost when
no answer comes by the next tick. `listening` is true only between Redis's confirmation
of the subscription and the loss of the connection; every change is reported, so the
cache can empty its local store, which is exact only while every message arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from blog_graphql.live.redis_broker import pump

logger = logging.getLogger("blog_graphql.response_cache")

HEARTBEAT_SECONDS = 2.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0)
CONNECTION_ERRORS = (RedisError, OSError, TimeoutError)


class InvalidationChannel:
    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.listening = False
        self.on_message: Callable[[bytes], None] = lambda _data: None
        self.on_connection_change: Callable[[bool], None] = lambda _listening: None
        self._client = Redis.from_url(
            url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0), client_name=name
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen from now on (idempotent; called on use, as there is no loop before)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await self._subscribe(pubsub)
                failures = 0
                await self._pump(pubsub)
            except CONNECTION_ERRORS as error:
                logger.warning("invalidation channel lost: %s", error or type(error).__name__)
            finally:
                self._set_listening(False)
                with suppress(*CONNECTION_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            failures += 1
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS)) - 1])

    async def _subscribe(self, pubsub: PubSub) -> None:
        await pubsub.subscribe(self.name)
        message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS * 2)
        if message is None or message["type"] != "subscribe":
            raise ConnectionError("no subscription confirmation from Redis")
        self._set_listening(True)

    async def _pump(self, pubsub: PubSub) -> None:
        await pump(pubsub, self._handle, HEARTBEAT_SECONDS)

    def _handle(self, message: dict[str, Any]) -> None:
        if message["type"] == "message":
            try:
                self.on_message(message["data"])
            except Exception:  # a bad message must not stop the listening
                logger.exception("invalidation message not understood")

    def _set_listening(self, listening: bool) -> None:
        if listening != self.listening:
            self.listening = listening
            self.on_connection_change(listening)
