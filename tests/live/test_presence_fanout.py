"""Presence across two real instances sharing Redis: readers counted once per viewer on
every instance, typing and its lapse pushed everywhere, a crashed instance's readers lapsing."""

from __future__ import annotations

from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import graphql_socket
from tests.live.comments import data
from tests.live.presence import presence_until, set_typing, watch_presence

pytestmark = requires_redis


async def test_readers_are_counted_once_per_viewer_across_instances(serve, redis_url, db, settings):
    ada = await create_user(db, username="ada")
    post = await create_post(db, author=ada)
    token = (await auth_headers(db, settings, ada))["Authorization"]
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with (
            graphql_socket(a.ws_url) as ada_on_a,
            graphql_socket(b.ws_url) as ada_on_b,
            graphql_socket(a.ws_url) as anonymous_on_a,
            graphql_socket(b.ws_url) as anonymous_on_b,
        ):
            await ada_on_a.init({"Authorization": token})
            await ada_on_b.init({"Authorization": token})
            await anonymous_on_a.init()
            await anonymous_on_b.init()
            firsts = [
                await watch_presence(socket, post)
                for socket in (ada_on_a, ada_on_b, anonymous_on_a, anonymous_on_b)
            ]
            everyone = [
                (await presence_until(socket, (3, [])))[-1]
                for socket in (ada_on_a, ada_on_b, anonymous_on_a)
            ]
            await anonymous_on_b.ws.close()
            after_leaving = [
                await presence_until(socket, (2, []))
                for socket in (ada_on_a, ada_on_b, anonymous_on_a)
            ]
    assert firsts == [(1, []), (1, []), (2, []), (3, [])]
    assert everyone == [(3, [])] * 3
    assert after_leaving == [[(2, [])]] * 3


async def test_typing_on_one_instance_shows_and_lapses_on_both(serve, redis_url, db, settings):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    overrides = {"REDIS_URL": redis_url, "PRESENCE_TYPING_SECONDS": "1"}
    with serve(**overrides) as a, serve(**overrides) as b:
        async with graphql_socket(a.ws_url) as on_a, graphql_socket(b.ws_url) as on_b:
            for socket in (on_a, on_b):
                await socket.init()
            await watch_presence(on_a, post)
            await watch_presence(on_b, post)
            await presence_until(on_a, (2, []))
            data(set_typing(b, bob_token, post))
            typing = [(await presence_until(s, (2, ["bob"])))[-1] for s in (on_a, on_b)]
            lapsed = [await presence_until(s, (2, [])) for s in (on_a, on_b)]
    assert typing == [(2, ["bob"])] * 2
    assert lapsed == [[(2, [])]] * 2


async def test_the_readers_of_a_crashed_instance_lapse_after_their_heartbeats(serve, redis_url, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    overrides = {"REDIS_URL": redis_url, "PRESENCE_HEARTBEAT_SECONDS": "0.3"}
    with serve(**overrides) as doomed, serve(**overrides) as survivor:
        async with graphql_socket(survivor.ws_url) as watcher:
            await watcher.init()
            await watch_presence(watcher, post)
            async with graphql_socket(doomed.ws_url) as reader:
                await reader.init()
                await watch_presence(reader, post)
                await presence_until(watcher, (2, []))
                doomed.process.kill()  # no goodbye: its entries stay until they lapse
                doomed.process.wait()
                after_the_crash = await presence_until(watcher, (1, []))
    assert after_the_crash == [(1, [])]
