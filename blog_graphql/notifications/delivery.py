"""After commit: new notifications go live to their recipients, on every instance, and the
ones that want an email start their recipient's digest window.

The app registers its live hub here (`install`): a notification made in a request, or by
the in-process worker of an app without Redis, reaches subscribers through that hub (on
the hub's own event loop). A worker process has no hub: it publishes on Redis, on the
channel the hubs of every instance listen to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from blog_graphql.config.settings import Settings
from blog_graphql.jobs import broker as jobs
from blog_graphql.live.hub import LiveHub

logger = logging.getLogger("blog_graphql.notifications")


@dataclass(frozen=True)
class Created:
    """A notification just committed: who gets it, and whether an email is wanted."""

    id: int
    recipient_id: int
    email: bool


@dataclass
class _Local:
    settings: Settings
    hub: LiveHub
    loop: asyncio.AbstractEventLoop


_local: _Local | None = None


def channel(user_id: int) -> str:
    return f"notifications:{user_id}"


def install(settings: Settings, hub: LiveHub) -> None:
    """Called by the app at startup, on its event loop."""
    global _local
    _local = _Local(settings, hub, asyncio.get_running_loop())


def uninstall(hub: LiveHub) -> None:
    global _local
    if _local is not None and _local.hub is hub:
        _local = None


async def announce(settings: Settings | None, created: Sequence[Created]) -> None:
    """Publish each notification to its recipient's channel; start the digests wanted.

    A failure is logged, never raised: the notifications are committed, and emails
    whose job was lost are picked up by the relay (`relay.py`).
    """
    if not created:
        return
    settings = settings or (_local.settings if _local else None)
    if settings is not None:  # else a script or a test without an app: nobody listens
        try:
            await _publish(settings, created)
        except Exception:
            logger.warning("could not publish %d notification(s)", len(created), exc_info=True)
    await start_digests({item.recipient_id for item in created if item.email})


async def start_digests(recipients: Iterable[int]) -> None:
    """A digest job per recipient; the job itself waits for the window to close."""
    from blog_graphql.notifications.actors import send_notification_digest

    for recipient in sorted(recipients):
        try:
            await jobs.enqueue(send_notification_digest.message(recipient))
        except jobs.NoWorker:
            return  # the relay sends it once the window is over
        except Exception:
            logger.warning("digest of user %s waits for the relay", recipient, exc_info=True)
            return


async def _publish(settings: Settings, created: Sequence[Created]) -> None:
    messages = [(channel(item.recipient_id), {"id": item.id}) for item in created]
    local = _local
    if local is not None:
        publishing = _publish_on_hub(local.hub, messages)
        if asyncio.get_running_loop() is local.loop:
            await publishing
        else:  # the in-process worker's loop: the hub lives on the app's
            future = asyncio.run_coroutine_threadsafe(publishing, local.loop)
            await asyncio.wrap_future(future)
        return
    if settings.redis_url:
        await _publish_on_redis(settings, messages)


async def _publish_on_hub(hub: LiveHub, messages: list[tuple[str, dict[str, int]]]) -> None:
    for name, event in messages:
        await hub.pubsub.publish(name, event)


async def _publish_on_redis(settings: Settings, messages: list[tuple[str, dict[str, int]]]) -> None:
    assert settings.redis_url is not None
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for name, event in messages:
                pipe.publish(settings.pubsub_prefix + name, orjson.dumps(event))
            await pipe.execute()
    finally:
        await client.aclose()
