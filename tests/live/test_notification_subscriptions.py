"""`notificationAdded`: the viewer's own notifications, live on every instance (two
uvicorn instances sharing Redis, real graphql-transport-ws clients)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blog_graphql.notifications import delivery, fanout
from blog_graphql.notifications.models import NotificationFanout
from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import PROTOCOLS, graphql_socket
from tests.live.comments import add_comment, call, data, error_codes, listening, post_id
from tests.notifications.helpers import follow

pytestmark = requires_redis

NOTIFICATION_ADDED = """
subscription { notificationAdded { id kind actor { username } post { title }
  comment { content } } }
"""
PUBLISH = "mutation($id: ID!) { publishPost(id: $id) { id } }"


async def token(db, settings, user) -> str:
    return (await auth_headers(db, settings, user))["Authorization"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_viewer_hears_their_own_notifications_from_any_instance(
    serve, redis_url, db, settings, protocol
):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    cyd = await create_user(db, username="cyd")
    post = await create_post(db, author=ada, title="Tides")
    tokens = {user.username: await token(db, settings, user) for user in (ada, bob, cyd)}
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with graphql_socket(a.ws_url, protocol) as on_a, graphql_socket(b.ws_url) as on_b:
            await on_a.init({"Authorization": tokens["ada"]})
            await on_b.init({"Authorization": tokens["cyd"]})
            for socket, server, user in ((on_a, a, ada), (on_b, b, cyd)):
                await socket.subscribe("1", NOTIFICATION_ADDED)
                await listening(server, delivery.channel(user.id), 1)

            add_comment(b, tokens["bob"], post, "written on b")
            add_comment(a, tokens["bob"], post, "hello @cyd")

            to_ada = [(await on_a.next_data("1"))["notificationAdded"] for _ in range(2)]
            to_cyd = (await on_b.next_data("1"))["notificationAdded"]
    assert [(n["kind"], n["comment"]["content"]) for n in to_ada] == [
        ("COMMENT_ON_YOUR_POST", "written on b"),
        ("COMMENT_ON_YOUR_POST", "hello @cyd"),
    ]
    assert to_ada[0]["actor"] == {"username": "bob"} and to_ada[0]["post"] == {"title": "Tides"}
    assert (to_cyd["kind"], to_cyd["comment"]["content"]) == ("MENTION", "hello @cyd")


async def test_a_fanout_in_a_worker_process_reaches_followers_on_every_instance(
    serve, redis_url, db, settings, channel_prefix
):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    await follow(db, bob, ada)
    post = await create_post(db, author=ada, title="Tides", published=False)
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with graphql_socket(a.ws_url) as on_a:
            await on_a.init({"Authorization": await token(db, settings, bob)})
            await on_a.subscribe("1", NOTIFICATION_ADDED)
            await listening(a, delivery.channel(bob.id), 1)
            data(call(b, PUBLISH, await token(db, settings, ada), id=post_id(post)))
            async with db.session() as session:
                fanout_id = await session.scalar(select(NotificationFanout.id))
            # What a worker process does: no hub there, so it publishes on Redis itself.
            worker = settings.model_copy(
                update={"redis_url": redis_url, "pubsub_prefix": channel_prefix}
            )
            assert await fanout.run_fanout(db, worker, fanout_id) == 1
            heard = (await on_a.next_data("1"))["notificationAdded"]
    assert heard["kind"] == "NEW_POST_BY_FOLLOWED" and heard["comment"] is None
    assert heard["actor"] == {"username": "ada"} and heard["post"] == {"title": "Tides"}


async def test_anonymous_sockets_cannot_subscribe(serve, redis_url, db):
    with serve(REDIS_URL=redis_url) as a:
        async with graphql_socket(a.ws_url) as socket:
            await socket.init()
            await socket.subscribe("1", NOTIFICATION_ADDED)
            assert error_codes(await socket.receive()) == ["UNAUTHENTICATED"]
