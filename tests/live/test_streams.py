"""Replayable streams, in process and in Redis: ids, order, retention and the floor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from blog_graphql.live.pubsub import InProcessBroker, PubSub
from blog_graphql.live.redis_broker import RedisBroker
from blog_graphql.live.streams import Retention, parse_stream_id
from tests.conftest import TEST_REDIS_URL, requires_redis

# Counted retention only: nothing is young enough to be kept for its age.
BY_COUNT = Retention(max_events=3, seconds=0)
BROKERS = ["memory", pytest.param("redis", marks=requires_redis)]


def make_hub(kind: str, retention: Retention) -> PubSub:
    prefix = f"test-streams-{uuid.uuid4().hex}:"
    if kind == "memory":
        return PubSub(lambda receiver: InProcessBroker(receiver, retention), prefix=prefix,
                      queue_size=100)  # fmt: skip
    assert TEST_REDIS_URL is not None
    return PubSub(
        lambda receiver: RedisBroker(
            TEST_REDIS_URL, receiver, home_channel=f"{prefix}home", retention=retention
        ),
        prefix=prefix,
        queue_size=100,
    )


@pytest.fixture
async def hub_factory() -> AsyncIterator[object]:
    hubs: list[PubSub] = []

    def make(kind: str, retention: Retention = BY_COUNT) -> PubSub:
        hubs.append(make_hub(kind, retention))
        return hubs[-1]

    yield make
    for hub in hubs:
        await hub.close()


async def append_numbers(hub: PubSub, count: int, stream: str = "s") -> list[str]:
    return [await hub.append(stream, ["c"], {"n": n}) for n in range(count)]


@pytest.mark.parametrize("kind", BROKERS)
async def test_an_append_is_published_with_its_id_and_read_back_after_an_id(kind, hub_factory):
    hub = hub_factory(kind, Retention())
    async with hub.subscribe("c", lambda *_: None) as subscriber:
        ids = await append_numbers(hub, 4)
        heard = [await anext(subscriber) for _ in ids]
    replay = await hub.read_after("s", parse_stream_id(ids[1]))
    assert heard == [{"sid": stream_id, "n": n} for n, stream_id in enumerate(ids)]
    assert sorted(ids, key=parse_stream_id) == ids and len(set(ids)) == 4
    assert replay.covered and replay.last == ids[-1]
    assert [(stream_id, data) for stream_id, data in replay.entries] == [
        (ids[2], b'{"n":2}'),
        (ids[3], b'{"n":3}'),
    ]


@pytest.mark.parametrize("kind", BROKERS)
async def test_a_reader_behind_what_was_trimmed_is_not_covered(kind, hub_factory):
    hub = hub_factory(kind)
    ids = await append_numbers(hub, 8)
    behind = await hub.read_after("s", parse_stream_id(ids[0]))
    recent = await hub.read_after("s", parse_stream_id(ids[-3]))
    assert (behind.covered, behind.entries, behind.last) == (False, [], ids[-1])
    assert recent.covered and [stream_id for stream_id, _ in recent.entries] == ids[-2:]


@pytest.mark.parametrize("kind", BROKERS)
async def test_young_events_are_kept_beyond_the_count(kind, hub_factory):
    hub = hub_factory(kind, Retention(max_events=3, seconds=3600))
    ids = await append_numbers(hub, 10)
    replay = await hub.read_after("s", parse_stream_id(ids[0]))
    assert replay.covered and [stream_id for stream_id, _ in replay.entries] == ids[1:]


@pytest.mark.parametrize("kind", BROKERS)
async def test_a_stream_that_keeps_nothing_gives_a_position_to_resume_from(kind, hub_factory):
    """An unknown stream (expired, or lost with a restart) cannot vouch for any cursor;
    the position it gives covers everything appended after it."""
    hub = hub_factory(kind)
    unknown = await hub.read_after("s", (1, 0))
    resumed = await hub.read_after("s", parse_stream_id(unknown.last))
    later = await hub.append("s", [], {"n": 1})
    then = await hub.read_after("s", parse_stream_id(unknown.last))
    assert (unknown.covered, unknown.entries) == (False, [])
    assert (resumed.covered, resumed.entries) == (True, [])
    assert then.covered and [stream_id for stream_id, _ in then.entries] == [later]


async def test_in_process_streams_stay_within_their_memory_budget(hub_factory):
    hub = hub_factory("memory", Retention(max_events=100, seconds=0, memory_events=5))
    first = await append_numbers(hub, 3, stream="old")
    await append_numbers(hub, 4, stream="new")
    old = await hub.read_after("old", parse_stream_id(first[0]))
    assert not old.covered  # its oldest events went to make room for the newer stream's
