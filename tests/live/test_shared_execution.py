"""One execution per audience: subscribers who would get the same answer to an event share
one execution of it (counted by `blog_graphql_live_executions_total`), and every socket
still gets its own operation id, in either protocol."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

import pytest

from blog_graphql.comments.events import post_channel
from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, graphql_socket
from tests.live.comments import (
    COMMENT_ADDED,
    COMMENT_EVENTS,
    MODERATE_COMMENT,
    add_comment,
    call,
    data,
    listening,
    post_id,
)
from tests.live_server import LiveServer

EXECUTIONS = "{ liveExecutions }"
WITH_EMAILS = (
    "subscription($post: ID!) "
    "{ commentAdded(postId: $post) { id content author { username email } } }"
)


def executions(server: LiveServer) -> int:
    count: int = data(call(server, EXECUTIONS))["liveExecutions"]
    return count


@pytest.fixture
async def people(db, settings):
    """ada writes the post, bob comments, cy only reads, root moderates."""
    users = [
        await create_user(db, username=name, email=f"{name}@example.com", is_admin=name == "root")
        for name in ("ada", "bob", "cy", "root")
    ]
    return {
        user.username: (user, (await auth_headers(db, settings, user))["Authorization"])
        for user in users
    }


async def open_subscribers(
    stack: AsyncExitStack,
    server: LiveServer,
    post: Any,
    who: Sequence[tuple[str, str | None, str]],
    query: str,
) -> list[tuple[str, GraphQLSocket, str]]:
    """A socket per (name, token, protocol), each subscribed to `query` with its own
    operation id; returns once every subscription listens."""
    sockets = []
    for n, (name, token, protocol) in enumerate(who):
        socket = await stack.enter_async_context(graphql_socket(server.ws_url, protocol))
        await socket.init({"Authorization": token} if token else None)
        op_id = f"{name}-{n}"
        await socket.subscribe(op_id, query, post=post_id(post))
        sockets.append((name, socket, op_id))
    await listening(server, post_channel(post.id), len(who))
    return sockets


async def test_subscribers_of_one_document_share_one_execution_per_event(serve, db, people):
    """Anonymous, signed-in and admin readers of a document that selects nothing
    viewer-dependent all get the same answer: one execution per event, whatever the
    protocol, each message under its own socket's operation id."""
    post = await create_post(db, author=people["ada"][0])
    bob = people["bob"][1]
    who = [
        ("anonymous", None, TRANSPORT_WS),
        ("anonymous", None, LEGACY_WS),
        ("anonymous", None, TRANSPORT_WS),
        ("cy", people["cy"][1], LEGACY_WS),
        ("root", people["root"][1], TRANSPORT_WS),
        ("bob", bob, TRANSPORT_WS),
    ]
    with serve() as server:
        async with AsyncExitStack() as stack:
            sockets = await open_subscribers(stack, server, post, who, COMMENT_ADDED)
            before = executions(server)
            first = add_comment(server, bob, post, "one")
            second = add_comment(server, bob, post, "two")
            heard = [
                [(await socket.next_data(op_id))["commentAdded"] for _ in range(2)]
                for _name, socket, op_id in sockets
            ]
            ran = executions(server) - before
    assert ran == 2  # one per event, for six subscribers
    expected = [
        {"id": comment, "content": text, "isApproved": True, "author": {"username": "bob"}}
        for comment, text in ((first, "one"), (second, "two"))
    ]
    assert heard == [expected] * len(who)


async def test_readers_who_may_see_different_things_get_their_own_answers(serve, db, people):
    """A comment hidden by a moderator: anonymous readers get a bare id, its author and
    the admin the comment (the same payload, so they share): two executions, each right."""
    post = await create_post(db, author=people["ada"][0])
    bob, root = people["bob"][1], people["root"][1]
    with serve() as server:
        async with AsyncExitStack() as stack:
            comment = add_comment(server, bob, post, "borderline")
            who = [
                ("anonymous", None, TRANSPORT_WS),
                ("anonymous", None, LEGACY_WS),
                ("bob", bob, TRANSPORT_WS),
                ("bob", bob, LEGACY_WS),
                ("root", root, TRANSPORT_WS),
            ]
            sockets = await open_subscribers(stack, server, post, who, COMMENT_EVENTS)
            before = executions(server)
            data(call(server, MODERATE_COMMENT, root, id=comment, approved=False))
            heard = {
                op_id: (await socket.next_data(op_id))["commentEvents"]
                for _name, socket, op_id in sockets
            }
            ran = executions(server) - before
    assert ran == 2
    hidden = {"kind": "HIDDEN", "commentId": comment}
    seen = {"id": comment, "content": "borderline", "isApproved": False, "isDeleted": False}
    assert heard == {
        "anonymous-0": {**hidden, "comment": None},
        "anonymous-1": {**hidden, "comment": None},
        "bob-2": {**hidden, "comment": seen},
        "bob-3": {**hidden, "comment": seen},
        "root-4": {**hidden, "comment": seen},
    }


async def test_a_viewer_dependent_field_is_shared_only_by_sockets_of_one_viewer(serve, db, people):
    """`User.email` shows to its owner and admins: anonymous readers share one answer,
    every signed-in viewer has their own (two sockets of bob still share)."""
    post = await create_post(db, author=people["ada"][0])
    bob = people["bob"][1]
    who = [
        ("anonymous", None, TRANSPORT_WS),
        ("anonymous", None, LEGACY_WS),
        ("bob", bob, TRANSPORT_WS),
        ("bob", bob, LEGACY_WS),
        ("cy", people["cy"][1], TRANSPORT_WS),
        ("root", people["root"][1], TRANSPORT_WS),
    ]
    with serve() as server:
        async with AsyncExitStack() as stack:
            sockets = await open_subscribers(stack, server, post, who, WITH_EMAILS)
            before = executions(server)
            add_comment(server, bob, post, "hello")
            emails = {
                op_id: (await socket.next_data(op_id))["commentAdded"]["author"]["email"]
                for _name, socket, op_id in sockets
            }
            ran = executions(server) - before
    assert ran == 4  # anonymous, bob, cy, root
    assert emails == {
        "anonymous-0": None,
        "anonymous-1": None,
        "bob-2": "bob@example.com",
        "bob-3": "bob@example.com",
        "cy-4": None,
        "root-5": "bob@example.com",
    }


@requires_redis
async def test_subscribers_share_one_execution_through_redis_too(serve, redis_url, db, people):
    post = await create_post(db, author=people["ada"][0])
    bob = people["bob"][1]
    who = [("anonymous", None, TRANSPORT_WS), ("anonymous", None, LEGACY_WS)] * 3
    with serve(REDIS_URL=redis_url) as server:
        async with AsyncExitStack() as stack:
            sockets = await open_subscribers(stack, server, post, who, COMMENT_ADDED)
            before = executions(server)
            comment = add_comment(server, bob, post, "through Redis")
            heard = [
                (await socket.next_data(op_id))["commentAdded"]["id"]
                for _name, socket, op_id in sockets
            ]
            ran = executions(server) - before
    assert ran == 1
    assert heard == [comment] * len(who)
