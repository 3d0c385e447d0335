"""Presence in process: the store's expiries (in memory and in Redis, on a clock the test
sets), the 6-second default, and what a burst of changes costs whatever the watchers."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack, aclosing

import pytest
from redis.asyncio import Redis

from blog_graphql.config.settings import Settings
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import InProcessBroker, PubSub
from blog_graphql.live.sockets import LiveSockets
from blog_graphql.presence.live import Presence
from blog_graphql.presence.redis_store import RedisPresenceStore
from blog_graphql.presence.store import MemoryPresenceStore, PresenceStore, reader_entry
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.factories import create_post, create_user


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=requires_redis)])
async def store(request):
    """Each store on a clock the test moves by hand."""
    clock = Clock()
    if request.param == "memory":
        yield MemoryPresenceStore(clock)
        return
    assert TEST_REDIS_URL
    redis_store = RedisPresenceStore(
        Redis.from_url(TEST_REDIS_URL), f"test-presence-{uuid.uuid4().hex}:", clock
    )
    yield redis_store
    await redis_store.close()


async def test_readers_count_each_viewer_once_until_their_entries_lapse(store: PresenceStore):
    now = store.clock()
    await store.add_reader(1, reader_entry("u:7", "a"), now + 30)
    await store.add_reader(1, reader_entry("u:7", "b"), now + 10)  # the same user elsewhere
    await store.add_reader(1, reader_entry("s:a:1", "a"), now + 20)
    await store.add_reader(2, reader_entry("s:a:2", "a"), now + 20)
    counted = await store.snapshot(1)
    store.clock.now = now + 20  # type: ignore[attr-defined]
    after_two_lapsed = await store.snapshot(1)
    assert (counted.readers, counted.next_lapse) == (2, now + 10)
    assert (after_two_lapsed.readers, after_two_lapsed.next_lapse) == (1, now + 30)


async def test_a_heartbeat_renews_present_readers_and_never_brings_back_a_removed_one(
    store: PresenceStore,
):
    now = store.clock()
    staying, leaving = reader_entry("u:1", "a"), reader_entry("u:2", "a")
    for entry in (staying, leaving):
        await store.add_reader(5, entry, now + 3)
    await store.remove_reader(5, leaving)
    await store.refresh_readers({5: [staying, leaving]}, now + 9)
    store.clock.now = now + 5  # type: ignore[attr-defined]
    snapshot = await store.snapshot(5)
    assert (snapshot.readers, snapshot.next_lapse) == (1, now + 9)


async def test_typing_changes_only_when_it_starts_stops_or_lapses(store: PresenceStore):
    now = store.clock()
    changes = [
        await store.start_typing(3, 42, now + 6),
        await store.start_typing(3, 42, now + 7),  # a renewal
        await store.start_typing(3, 7, now + 6),
    ]
    typing = await store.snapshot(3)
    stops = [await store.stop_typing(3, 7), await store.stop_typing(3, 7)]
    store.clock.now = now + 7  # type: ignore[attr-defined]
    lapsed = await store.snapshot(3)
    restarted = await store.start_typing(3, 42, now + 13)
    assert changes == [True, False, True]
    assert (typing.typing, typing.next_lapse) == ((7, 42), now + 6)
    assert stops == [True, False]
    assert (lapsed.typing, lapsed.next_lapse) == ((), None)
    assert restarted is True


def in_process_hub(db) -> LiveHub:
    pubsub = PubSub(InProcessBroker, prefix="test:", queue_size=4)
    return LiveHub(pubsub=pubsub, sockets=LiveSockets(db, per_address=1, check_seconds=3600))


async def test_typing_lasts_six_seconds_unless_renewed_by_default(db, settings):
    bob = await create_user(db)
    post = await create_post(db, author=bob)
    presence = Presence.create(settings, db, in_process_hub(db), None)
    clock = presence.store.clock = Clock()
    started = clock.now
    await presence.set_typing(bob, post.id, True)
    clock.now = started + 5.99
    before = await presence.store.snapshot(post.id)
    clock.now = started + 6
    after = await presence.store.snapshot(post.id)
    await presence.close()
    assert Settings.model_fields["presence_typing_seconds"].default == 6
    assert presence.typing_seconds == 6
    assert (before.typing, after.typing) == ((bob.id,), ())


class CountingStore(MemoryPresenceStore):
    reads = 0

    async def snapshot(self, post_id):
        self.reads += 1
        return await super().snapshot(post_id)


async def test_a_burst_of_changes_costs_one_read_per_window_whatever_the_watchers(
    db, settings, sql_log
):
    users = [await create_user(db) for _ in range(10)]
    post = await create_post(db, author=users[0])
    store = CountingStore()
    hub = in_process_hub(db)
    presence = Presence(db, hub, store, typing_seconds=60, heartbeat_seconds=60, window=2.0)
    async with AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(aclosing(presence.watch(None, None, post.id)))
            for _ in range(200)
        ]
        firsts = await asyncio.gather(*(anext(stream) for stream in streams))
        await asyncio.sleep(2.1)  # the arrivals' window is over
        reads_before, statements_before = store.reads, len(sql_log.statements())
        for user in users:
            await presence.set_typing(user, post.id, True)
        lasts = await asyncio.gather(*(typing_of(stream, 10) for stream in streams))
        reads = store.reads - reads_before
        user_loads = [s for s in sql_log.statements()[statements_before:] if "FROM users" in s]
    await presence.close()
    assert {state.readers for state in firsts} <= set(range(1, 201))
    assert {(state.readers, state.typing_ids) for state in lasts} == {
        (200, tuple(sorted(user.id for user in users)))
    }
    # Ten changes within one window: at most a read at once and one after the window,
    # and the typers loaded once per read for all 200 watchers.
    assert 1 <= reads <= 2
    assert 1 <= len(user_loads) <= reads


async def typing_of(stream, count: int):
    while True:
        state = await anext(stream)
        if len(state.typing) == count:
            return state
