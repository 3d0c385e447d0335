"""What an instance holds for live updates: its pub/sub hub and its open sockets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.live.pubsub import Broker, InProcessBroker, PubSub, Receiver, Subscriber
from blog_graphql.live.sockets import LiveSocket, LiveSockets
from blog_graphql.live.streams import Retention


@dataclass
class LiveHub:
    pubsub: PubSub
    sockets: LiveSockets

    @classmethod
    def create(cls, settings: Settings, db: Database) -> LiveHub:
        """Redis fan-out when REDIS_URL is set, in-process otherwise."""
        pubsub = PubSub(
            lambda receiver: make_broker(settings, receiver),
            prefix=settings.pubsub_prefix,
            queue_size=settings.ws_subscriber_queue_size,
            shared_execution=settings.live_shared_execution,
        )
        sockets = LiveSockets(
            db,
            per_address=settings.ws_max_connections_per_client,
            check_seconds=settings.ws_session_check_seconds,
        )
        return cls(pubsub=pubsub, sockets=sockets)

    @asynccontextmanager
    async def subscribe(self, socket: LiveSocket | None, channel: str) -> AsyncIterator[Subscriber]:
        """Events on `channel` for one subscription; dropping it closes its socket."""
        on_drop = socket.close_soon if socket is not None else _ignore
        async with self.pubsub.subscribe(channel, on_drop) as subscriber:
            yield subscriber

    async def close(self) -> None:
        await self.sockets.close()
        await self.pubsub.close()


def make_broker(settings: Settings, receiver: Receiver) -> Broker:
    retention = Retention(
        max_events=settings.comment_replay_max_events,
        seconds=settings.comment_replay_seconds,
        memory_events=settings.comment_replay_memory_events,
    )
    if settings.redis_url is None:
        return InProcessBroker(receiver, retention)
    from blog_graphql.live.redis_broker import RedisBroker

    home = f"{settings.pubsub_prefix}instance:{uuid.uuid4().hex}"
    return RedisBroker(settings.redis_url, receiver, home_channel=home, retention=retention)


def _ignore(_code: int, _reason: str) -> None:
    return None
