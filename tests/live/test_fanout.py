"""Fan-out across instances through Redis, and what happens when Redis goes away."""

from __future__ import annotations

import contextlib

import pytest
import redis

from blog_graphql.comments.events import post_channel
from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import PROTOCOLS, graphql_socket, subscribe_echo
from tests.live.comments import (
    COMMENT_ADDED,
    UNPUBLISH_POST,
    add_comment,
    call,
    data,
    listening,
    post_id,
    receive_ending,
    watch_post,
)
from tests.live.conftest import publish
from tests.live.redis_server import private_redis
from tests.waiting import eventually

pytestmark = requires_redis


def subscriptions_in_redis(url: str, channel: str) -> int:
    """How many Redis connections listen to `channel` (all instances together)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.pubsub_numsub(channel)[0][1])
    finally:
        client.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_comment_written_on_one_instance_reaches_subscribers_on_both(
    serve, redis_url, db, settings, protocol
):
    ada, bob = await create_user(db), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with graphql_socket(a.ws_url, protocol) as on_a, graphql_socket(b.ws_url) as on_b:
            for socket, server in ((on_a, a), (on_b, b)):
                await socket.init()
                await watch_post(socket, server, post)
            from_b = add_comment(b, bob_token, post, "written on b")
            from_a = add_comment(a, bob_token, post, "written on a")
            heard = {
                name: [(await socket.next_data("1"))["commentAdded"]["id"] for _ in range(2)]
                for name, socket in (("a", on_a), ("b", on_b))
            }
    assert heard == {"a": [from_b, from_a], "b": [from_b, from_a]}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_post_unpublished_on_one_instance_ends_its_readers_subscriptions_on_both(
    serve, redis_url, db, settings, protocol
):
    ada, bob = await create_user(db), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    ada_token = (await auth_headers(db, settings, ada))["Authorization"]
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with (
            graphql_socket(a.ws_url, protocol) as on_a,
            graphql_socket(b.ws_url, protocol) as on_b,
        ):
            await on_a.init()
            await on_b.init({"Authorization": bob_token})
            for socket, server in ((on_a, a), (on_b, b)):
                await watch_post(socket, server, post)
            data(call(b, UNPUBLISH_POST, ada_token, id=post_id(post)))
            endings = [await receive_ending(socket, "1") for socket in (on_a, on_b)]
            still_answers = [data(call(server, "{ posts { totalCount } }")) for server in (a, b)]
    assert endings == [["NOT_FOUND"], ["NOT_FOUND"]]
    assert still_answers == [{"posts": {"totalCount": 0}}] * 2


async def test_one_redis_subscription_per_instance_and_channel_whatever_the_subscribers(
    serve, redis_url, channel_prefix
):
    channel = f"{channel_prefix}echo:busy"
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with (
            graphql_socket(a.ws_url) as a1,
            graphql_socket(a.ws_url) as a2,
            graphql_socket(b.ws_url) as b1,
        ):
            for socket in (a1, a2, b1):
                await socket.init()
            for op_id in ("1", "2", "3"):
                await subscribe_echo(a1, op_id, "busy")
            await subscribe_echo(a2, "1", "busy")
            await subscribe_echo(b1, "1", "busy")
            while_open = subscriptions_in_redis(redis_url, channel)
        after_close = await eventually(
            lambda: subscriptions_in_redis(redis_url, channel) == 0, what="Redis unsubscribed"
        ) and subscriptions_in_redis(redis_url, channel)
    assert while_open == 2  # five subscribers, two instances
    assert after_close == 0  # the last local subscriber leaving unsubscribes


async def test_a_rolled_back_publish_is_never_delivered(serve, redis_url):
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with graphql_socket(a.ws_url) as socket:
            await socket.init()
            await subscribe_echo(socket, "1", "thread")
            assert publish(b, "thread", "rolled back", rollback=True) == 0
            assert publish(b, "thread", "committed") == 1
            assert await socket.next_data("1") == {"echo": "committed"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_redis_restart_closes_subscribers_with_1012_and_the_listener_recovers(
    serve, tmp_path, db, settings, protocol
):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with private_redis(tmp_path) as own_redis, serve(REDIS_URL=own_redis.url) as server:
        async with graphql_socket(server.ws_url, protocol) as before:
            await before.init()
            await watch_post(before, server, post)
            own_redis.stop()
            assert await before.close_code() == 1012
        own_redis.start()
        # The instance reconnects by itself: a new subscriber hears new comments.
        async with contextlib.AsyncExitStack() as stack:
            after = await subscribe_once_redis_is_back(stack, server, protocol, post)
            comment_id = add_comment(server, bob_token, post, "back")
            assert (await after.next_data("1"))["commentAdded"]["id"] == comment_id


async def subscribe_once_redis_is_back(stack, server, protocol, post, attempts=20):
    """Until the instance has reconnected, a new subscription is closed with 1012 (the
    client's cue to retry); as a `graphql-ws` client would, retry on a fresh socket."""
    for _ in range(attempts):
        socket = await stack.enter_async_context(graphql_socket(server.ws_url, protocol))
        await socket.init()
        await socket.subscribe("1", COMMENT_ADDED, post=post_id(post))
        try:
            await listening(server, post_channel(post.id), 1, within=3.0)
            return socket
        except AssertionError:
            assert await socket.close_code() == 1012
    raise AssertionError("the instance never resubscribed to Redis")
