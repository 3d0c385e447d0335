"""`commentEvents(after:)` on real uvicorn servers, in process and through Redis: what a
client missed while away comes first, in order, then live events, none lost or twice;
RESET when the gap is no longer kept; foreign cursors refused; replay across instances."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from blog_graphql.comments.events import post_channel
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import GraphQLSocket, graphql_socket
from tests.live.comments import (
    DELETE_COMMENT,
    add_comment,
    call,
    data,
    error_codes,
    listening,
    post_id,
)

EVENTS_AFTER = (
    "subscription($post: ID!, $after: String) { commentEvents(postId: $post, after: $after) "
    "{ kind commentId cursor comment { content isApproved } } }"
)
BROKERS = ["memory", pytest.param("redis", marks=requires_redis)]


def broker_env(broker: str) -> dict[str, str]:
    return {"REDIS_URL": TEST_REDIS_URL or ""} if broker == "redis" else {}


@pytest.fixture
async def people(db, settings):
    """ada writes posts, bob comments, root moderates: each with a token."""
    ada = await create_user(db, username="ada")
    bob = await create_user(db, username="bob")
    root = await create_user(db, username="root", is_admin=True)
    return {
        user.username: (await auth_headers(db, settings, user))["Authorization"]
        for user in (ada, bob, root)
    }


async def follow(
    socket: GraphQLSocket, server, post, after: str | None, *, listeners: int = 1
) -> None:
    """Subscribe to the post's events after `after`; return once it hears live ones."""
    await socket.init()
    await socket.subscribe("1", EVENTS_AFTER, post=post_id(post), after=after)
    await listening(server, post_channel(post.id), listeners)


async def events(socket: GraphQLSocket, count: int) -> list[dict[str, Any]]:
    return [(await socket.next_data("1"))["commentEvents"] for _ in range(count)]


def seen(received: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [
        (e["kind"], e["commentId"], e["comment"]["content"] if e["comment"] else None)
        for e in received
    ]


@pytest.mark.parametrize("broker", BROKERS)
async def test_a_resumed_subscription_gets_what_it_missed_in_order_then_live_events(
    serve, db, people, broker
):
    post = await create_post(db, author=await create_user(db, username="author"))
    bob = people["bob"]
    with serve(**broker_env(broker)) as server:
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, None)
            one = add_comment(server, bob, post, "one")
            [first] = await events(socket, 1)
        two = add_comment(server, bob, post, "two")
        data(call(server, "mutation($id: ID!) { updateComment(id: $id, content: \"one!\") "
                  "{ id } }", bob, id=one))  # fmt: skip
        three = add_comment(server, bob, post, "three")
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, first["cursor"])
            four = add_comment(server, bob, post, "four")
            resumed = await events(socket, 4)
    assert seen([first]) == [("ADDED", one, "one")]
    assert seen(resumed) == [
        ("ADDED", two, "two"),
        ("EDITED", one, "one!"),
        ("ADDED", three, "three"),
        ("ADDED", four, "four"),
    ]
    cursors = [event["cursor"] for event in [first, *resumed]]
    assert len(set(cursors)) == 5


@pytest.mark.parametrize("broker", BROKERS)
async def test_comments_written_during_the_reconnect_arrive_once_and_in_order(
    serve, db, people, broker
):
    """A writer keeps commenting while the client drops and resumes from its last cursor:
    across both connections it hears every comment once, in the order written."""
    post = await create_post(db, author=await create_user(db, username="author"))
    total = 30
    with serve(**broker_env(broker)) as server:

        def write_all() -> list[str]:
            return [add_comment(server, people["bob"], post, str(n)) for n in range(total)]

        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, None)
            writing = asyncio.create_task(asyncio.to_thread(write_all))
            before = await events(socket, 3)
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, before[-1]["cursor"])
            after = await events(socket, total - len(before))
            written = await writing
    heard = [*before, *after]
    assert [event["commentId"] for event in heard] == written
    assert [event["comment"]["content"] for event in heard] == [str(n) for n in range(total)]


@pytest.mark.parametrize("broker", BROKERS)
async def test_a_cursor_older_than_what_is_kept_gets_reset_then_live_events(
    serve, db, people, broker
):
    post = await create_post(db, author=await create_user(db, username="author"))
    bob = people["bob"]
    kept = {"COMMENT_REPLAY_MAX_EVENTS": "2", "COMMENT_REPLAY_SECONDS": "0"}
    with serve(**broker_env(broker), **kept) as server:
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, None)
            add_comment(server, bob, post, "seen")
            [first] = await events(socket, 1)
        for n in range(6):
            add_comment(server, bob, post, f"missed {n}")
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, post, first["cursor"])
            new = add_comment(server, bob, post, "new")
            reset, live = await events(socket, 2)
        newer = add_comment(server, bob, post, "newer")
        async with graphql_socket(server.ws_url) as socket:  # the RESET's cursor resumes too
            await follow(socket, server, post, reset["cursor"])
            from_reset = await events(socket, 2)
    assert (reset["kind"], reset["commentId"], reset["comment"]) == ("RESET", post_id(post), None)
    assert seen([live]) == [("ADDED", new, "new")]
    assert seen(from_reset) == [("ADDED", new, "new"), ("ADDED", newer, "newer")]


def forged_cursor(post) -> str:
    text = f"c1:{post.id}:99999999999999-0:{'0' * 16}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_a_cursor_that_is_not_one_of_this_posts_is_bad_user_input(serve, db, people):
    ada = await create_user(db, username="author")
    post, other = await create_post(db, author=ada), await create_post(db, author=ada)
    with serve() as server:
        async with graphql_socket(server.ws_url) as socket:
            await follow(socket, server, other, None)
            add_comment(server, people["bob"], other, "elsewhere")
            [elsewhere] = await events(socket, 1)
            refusals = []
            for n, cursor in enumerate(["nope", forged_cursor(post), elsewhere["cursor"]]):
                await socket.subscribe(f"x{n}", EVENTS_AFTER, post=post_id(post), after=cursor)
                refusals.append(await socket.receive())
    assert [error_codes(message) for message in refusals] == [["BAD_USER_INPUT"]] * 3
    assert all("after" in message["payload"][0]["extensions"]["fields"] for message in refusals)


async def test_a_replay_shows_each_viewer_only_what_they_may_see(serve, db, people):
    """Under pre-moderation bob's comment waits: replayed to him, not to anonymous readers;
    a comment deleted while they were away comes as its deletion only."""
    post = await create_post(db, author=await create_user(db, username="author"))
    bob, root = people["bob"], people["root"]
    with serve(COMMENT_MODERATION="pre") as server:
        async with (
            graphql_socket(server.ws_url) as anonymous,
            graphql_socket(server.ws_url) as author,
        ):
            await follow(anonymous, server, post, None)
            await author.init({"Authorization": bob})
            await author.subscribe("1", EVENTS_AFTER, post=post_id(post), after=None)
            await listening(server, post_channel(post.id), 2)
            add_comment(server, root, post, "hello")
            cursor = (await events(anonymous, 1))[0]["cursor"]
            await events(author, 1)
        held = add_comment(server, bob, post, "held")
        gone = add_comment(server, root, post, "gone")
        data(call(server, DELETE_COMMENT, root, id=gone))
        async with (
            graphql_socket(server.ws_url) as anonymous,
            graphql_socket(server.ws_url) as author,
        ):
            await follow(anonymous, server, post, cursor)
            await author.init({"Authorization": bob})
            await author.subscribe("1", EVENTS_AFTER, post=post_id(post), after=cursor)
            await listening(server, post_channel(post.id), 2)
            last = add_comment(server, root, post, "last")
            heard_anonymously = await events(anonymous, 2)
            heard_by_author = await events(author, 3)
    assert seen(heard_anonymously) == [("DELETED", gone, None), ("ADDED", last, "last")]
    assert seen(heard_by_author) == [
        ("ADDED", held, "held"),
        ("DELETED", gone, None),
        ("ADDED", last, "last"),
    ]
    assert heard_by_author[0]["comment"]["isApproved"] is False


@requires_redis
async def test_events_written_through_one_instance_are_replayed_on_another(serve, db, people):
    post = await create_post(db, author=await create_user(db, username="author"))
    bob = people["bob"]
    shared = broker_env("redis")
    with serve(**shared) as a, serve(**shared) as b:
        async with graphql_socket(a.ws_url) as on_a:
            await follow(on_a, a, post, None)
            add_comment(a, bob, post, "first")
            [first] = await events(on_a, 1)
        missed = [add_comment(a, bob, post, f"missed {n}") for n in range(2)]
        async with graphql_socket(b.ws_url) as on_b:
            await follow(on_b, b, post, first["cursor"])
            live = add_comment(a, bob, post, "live")
            heard = await events(on_b, 3)
    assert [event["commentId"] for event in heard] == [*missed, live]
