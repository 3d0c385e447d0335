"""A committed write invalidates every cached answer that showed what it changed, on every
instance: the cases popular caches get wrong, the read/write race, Redis going away."""

from __future__ import annotations

import asyncio

import pytest

from blog_graphql.http.response_cache import Answer, LocalStore
from tests.caching import world as w
from tests.caching.conftest import Factory, Instance, listening
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.waiting import eventually


@pytest.fixture
async def setup(make_instance: Factory, db, settings):
    """(writer, reader, reference, world): two cached instances and the uncached truth."""
    writer = await listening(make_instance())
    reader = await listening(make_instance())
    reference = make_instance(response_cache_enabled=False)
    world = await w.World.create(db, settings)
    await w.create_post(writer, world, "ada", 1, tags=["python"], published=True)
    await w.comment(writer, world, "bob", 1, post=1)
    return writer, reader, reference, world


async def check(setup) -> None:
    writer, reader, reference, world = setup
    await w.assert_fresh(reader, reference, world)
    await w.assert_fresh(writer, reference, world)


async def test_a_first_publication_reaches_feed_tag_pages_user_pages_and_counts(setup):
    writer, _, _, world = setup
    await w.create_post(writer, world, "bob", 2, tags=["rust"], published=False)
    await check(setup)
    await w.publish(writer, world, "bob", 2)
    await check(setup)


async def test_an_unpublish_and_a_delete_disappear_everywhere(setup):
    writer, _, _, world = setup
    await check(setup)
    await w.run(writer, "ada", world, w.UNPUBLISH, id=world.posts[1])
    await check(setup)
    await w.publish(writer, world, "ada", 1)
    await check(setup)
    await w.run(writer, "ada", world, w.DELETE, id=world.posts[1])
    await check(setup)


async def test_changing_a_posts_tags_and_title_updates_tag_pages_and_the_tag_list(setup):
    writer, _, _, world = setup
    await check(setup)
    changes = {"tags": ["go"], "title": "Renamed"}
    await w.run(writer, "ada", world, w.UPDATE, id=world.posts[1], input=changes)
    await check(setup)


async def test_comments_change_counts_and_nested_lists(setup):
    writer, _, _, world = setup
    await check(setup)
    await w.comment(writer, world, "ada", 2, post=1, parent=1)  # a reply, two levels down
    await check(setup)
    await w.run(writer, "bob", world, w.EDIT_COMMENT, id=world.comments[1][0], c="Edited")
    await check(setup)
    await w.run(writer, "root", world, w.MODERATE, id=world.comments[2][0], a=False)
    await check(setup)
    await w.run(writer, "bob", world, w.DELETE_COMMENT, id=world.comments[1][0])
    await check(setup)


async def test_a_profile_change_shows_in_nested_authors(setup):
    writer, _, _, world = setup
    await check(setup)
    await w.run(writer, "bob", world, w.UPDATE_ME, input={"fullName": "Robert", "bio": "Hi"})
    await check(setup)


async def test_a_read_that_started_before_a_commit_does_not_store_its_old_answer(
    setup, monkeypatch
):
    writer, reader, reference, world = setup
    paused, resume = asyncio.Event(), asyncio.Event()
    read_each = reader.state.db.read_each
    armed = [True]

    async def slow_read(reads):
        rows = await read_each(reads)
        if armed[0]:
            armed[0] = False
            paused.set()
            await resume.wait()  # the write commits while this read holds old rows
        return rows

    monkeypatch.setattr(reader.state.db, "read_each", slow_read)
    old = asyncio.create_task(reader.post(w.TAGS))
    await paused.wait()
    changes = {"tags": ["go"]}
    await w.run(writer, "ada", world, w.UPDATE, id=world.posts[1], input=changes)
    resume.set()  # at once: with Redis, the reader need not have heard of the write yet
    assert "python" in (await old).text  # it read before the commit...
    truth = (await reference.post(w.TAGS)).content
    assert (await reader.post(w.TAGS)).content == truth  # ...and kept nothing


@pytest.mark.parametrize("shared", [False, True] if TEST_REDIS_URL else [False])
async def test_an_answer_stored_after_an_invalidation_it_predates_is_never_served(
    make_instance: Factory, shared
):
    instance = await listening(make_instance(redis=shared))
    cache = instance.cache
    assert cache is not None
    answer = Answer(b'{"data":{}}', '"e"', frozenset({"posts"}))
    _, snapshot = await cache.lookup("k")
    await cache.invalidate(frozenset({"posts"}))
    await cache.store("k", answer, snapshot)
    assert (await cache.lookup("k"))[0] is None
    _, snapshot = await cache.lookup("k")
    await cache.store("k", answer, snapshot)
    assert (await cache.lookup("k"))[0] == answer
    await cache.invalidate(frozenset({"users"}))
    assert (await cache.lookup("k"))[0] == answer  # another table: still good
    await cache.invalidate(frozenset({"*"}))  # a write we could not see into
    assert (await cache.lookup("k"))[0] is None


def test_the_local_store_keeps_to_its_byte_budget():
    store = LocalStore(budget_bytes=100)
    for n in range(5):
        store.put(str(n), Answer(b"x" * 40, '"e"', frozenset({"posts"})), store.clock)
    assert store.used_bytes <= 100 and list(store.entries) == ["3", "4"]


async def test_with_redis_unreachable_nothing_is_cached_and_answers_stay_right(
    make_instance: Factory, setup
):
    _, _, reference, _ = setup
    down = make_instance(redis=True, redis_url="redis://127.0.0.1:1/0")
    for _ in range(2):
        assert (await down.post(w.TAGS)).content == (await reference.post(w.TAGS)).content
    assert down.cache is not None and not down.cache.local_usable
    assert not down.cache.local.entries


@requires_redis
async def test_losing_the_invalidation_channel_empties_and_stops_the_local_store(
    make_instance: Factory,
):
    from redis.asyncio import Redis

    instance: Instance = await listening(make_instance(redis=True))
    cache = instance.cache
    assert cache is not None and cache.channel is not None and TEST_REDIS_URL
    channel = cache.channel
    await instance.post(w.TAGS)
    assert cache.local.entries
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        # Only this instance's connection: other runs share the Redis server.
        ours = [c for c in await redis.client_list() if c["name"] == channel.name]
        assert ours
        await redis.client_kill_filter(_id=ours[0]["id"])
        await eventually(lambda: not channel.listening or not cache.local.entries)
        assert not cache.local.entries
        await eventually(lambda: channel.listening, what="the channel coming back")
    finally:
        await redis.aclose()
