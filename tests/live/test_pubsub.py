"""The hub and its brokers, in process: bounded queues, interruptions, Redis reconnects."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from blog_graphql.live import closecodes
from blog_graphql.live.pubsub import InProcessBroker, PubSub
from blog_graphql.live.redis_broker import RedisBroker
from tests.conftest import requires_redis
from tests.live.redis_server import PrivateRedis
from tests.waiting import eventually


def in_process_hub(queue_size: int = 4) -> PubSub:
    return PubSub(InProcessBroker, prefix="test:", queue_size=queue_size)


def redis_hub(url: str, prefix: str) -> PubSub:
    return PubSub(
        lambda receiver: RedisBroker(url, receiver, home_channel=f"{prefix}home"),
        prefix=prefix,
        queue_size=16,
    )


def recorder(drops: list[int]):
    return lambda code, _reason: drops.append(code)


async def test_a_full_queue_drops_only_that_subscriber():
    hub = in_process_hub(queue_size=4)
    drops: list[int] = []
    async with (
        hub.subscribe("c", recorder(drops)) as idle,
        hub.subscribe("c", recorder(drops)) as reader,
    ):
        received = []
        for n in range(10):
            await hub.publish("c", {"n": n})
            received.append((await anext(reader))["n"])
        assert received == list(range(10))
        assert drops == [closecodes.SLOW_CONSUMER]
        assert idle.dropped == closecodes.SLOW_CONSUMER and reader.dropped is None


async def test_a_waiting_reader_gets_events_in_order_and_a_cancelled_one_loses_none():
    hub = in_process_hub(queue_size=4)
    async with hub.subscribe("c", recorder([])) as subscriber:
        waiting = asyncio.create_task(anext(subscriber))
        await asyncio.sleep(0)
        for n in range(3):  # the first to the waiting reader, the others behind it
            await hub.publish("c", {"n": n})
        assert (await waiting)["n"] == 0
        assert [(await anext(subscriber))["n"] for _ in range(2)] == [1, 2]
        gone = asyncio.create_task(anext(subscriber))
        await asyncio.sleep(0)
        gone.cancel()  # its socket closed while it waited: the next reader hears what follows
        await asyncio.sleep(0)
        await hub.publish("c", {"n": 3})
        assert (await anext(subscriber))["n"] == 3
        assert gone.cancelled() and subscriber.dropped is None


async def test_an_interruption_drops_every_subscriber_and_new_ones_start_afresh():
    hub = in_process_hub()
    drops: list[int] = []
    async with hub.subscribe("a", recorder(drops)), hub.subscribe("b", recorder(drops)):
        hub.interrupt()
        async with hub.subscribe("a", recorder(drops)) as fresh:
            await hub.publish("a", {"n": 1})
            assert await anext(fresh) == {"n": 1}
            assert hub.subscriber_count("a") == 1
    assert drops == [closecodes.STREAM_INTERRUPTED] * 2
    assert hub.subscriber_count("a") == 0


async def test_events_reach_only_their_channel_and_leaving_forgets_it():
    hub = in_process_hub()
    async with hub.subscribe("a", recorder([])) as on_a, hub.subscribe("b", recorder([])):
        await hub.publish("a", {"to": "a"})
        assert await anext(on_a) == {"to": "a"}
        assert hub.subscriber_count("b") == 1
    assert (hub.subscriber_count("a"), hub.subscriber_count("b")) == (0, 0)


@requires_redis
async def test_redis_delivers_after_join_and_unsubscribes_after_the_last_leaves(redis_url):
    prefix = f"test-hub-{uuid.uuid4().hex}:"
    hub, inspector = redis_hub(redis_url, prefix), aioredis.Redis.from_url(redis_url)
    try:
        async with hub.subscribe("c", recorder([])) as first, hub.subscribe("c", recorder([])):
            numsub_open = (await inspector.pubsub_numsub(f"{prefix}c"))[0][1]
            await hub.publish("c", {"n": 1})
            assert await anext(first) == {"n": 1}
        numsub_closed = await wait_for_numsub(inspector, f"{prefix}c", 0)
    finally:
        await hub.close()
        await inspector.aclose()
    assert (numsub_open, numsub_closed) == (1, 0)


@requires_redis
async def test_a_killed_redis_connection_interrupts_subscribers_then_reconnects(redis_url):
    prefix = f"test-hub-{uuid.uuid4().hex}:"
    hub, inspector = redis_hub(redis_url, prefix), aioredis.Redis.from_url(redis_url)
    drops: list[int] = []
    try:
        async with hub.subscribe("c", recorder(drops)):
            await kill_listener(inspector, f"{prefix}home")
            await eventually(lambda: drops == [closecodes.STREAM_INTERRUPTED])
        async with hub.subscribe("c", recorder(drops)) as again:
            await hub.publish("c", {"n": 2})
            assert await anext(again) == {"n": 2}
    finally:
        await hub.close()
        await inspector.aclose()
    assert drops == [closecodes.STREAM_INTERRUPTED]


async def kill_listener(inspector: aioredis.Redis, home_channel: str) -> None:
    """Kill our listening connection, found by its client name (never another's)."""
    clients = await inspector.client_list(_type="pubsub")
    ours = [client for client in clients if client.get("name") == home_channel]
    assert len(ours) == 1
    await inspector.client_kill_filter(_id=ours[0]["id"])


async def wait_for_numsub(inspector: aioredis.Redis, channel: str, expected: int) -> int:
    async def numsub_is_expected() -> bool:
        return int((await inspector.pubsub_numsub(channel))[0][1]) == expected

    await eventually(numsub_is_expected, what=f"{expected} Redis subscribers of {channel}")
    return expected


async def test_a_failed_join_is_retried_by_the_next_subscriber(tmp_path):
    own_redis = PrivateRedis(tmp_path)  # not started yet: Redis is down
    hub = PubSub(
        lambda receiver: RedisBroker(
            own_redis.url, receiver, home_channel="test:home", wait_seconds=0.5
        ),
        prefix="test:",
        queue_size=4,
    )
    drops: list[int] = []
    try:
        async with hub.subscribe("c", recorder(drops)) as refused:
            assert refused.dropped == closecodes.STREAM_INTERRUPTED
        await asyncio.to_thread(own_redis.start)
        for _ in range(40):  # as a client would: retry while the listener reconnects
            async with hub.subscribe("c", recorder(drops)) as subscriber:
                if subscriber.dropped is None:
                    await hub.publish("c", {"n": 1})
                    assert await anext(subscriber) == {"n": 1}
                    break
        else:
            pytest.fail("the hub never joined the channel once Redis was up")
    finally:
        await hub.close()
        own_redis.stop()
