"""Attacks on the WebSocket: no `connection_init`, a second one, and a flood
of queries and mutations on one socket. A flood of real subscriptions and forged tokens are
in test_attacks_on_subscriptions; foreign origins and oversized messages in test_websocket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.hardening import test_websocket
from tests.hardening.test_websocket import PROTOCOL, assert_still_serves, open_socket, subscribe

server = test_websocket.server
POST_COUNT = "{ posts { totalCount } }"


async def closed_with(socket, *messages: dict[str, Any]) -> int:
    """Send `messages`, then read until the server closes; the close code."""
    for message in messages:
        await socket.send(json.dumps(message))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_an_operation_before_connection_init_closes_the_socket_4401(server):
    socket = await connect(server.ws_url, subprotocols=[PROTOCOL])
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}
    assert await closed_with(socket, subscribe) == 4401
    await assert_still_serves(server)


async def test_a_second_connection_init_closes_the_socket_4429(server):
    socket = await open_socket(server)
    assert await closed_with(socket, {"type": "connection_init", "payload": {}}) == 4429
    await assert_still_serves(server)


async def test_a_flood_of_operations_on_one_socket_is_answered_one_by_one(server):
    """120 operations at once, half of them anonymous `deletePost`s: every one gets its own
    answer (a result, or the cap's refusal), no mutation runs, and the socket stays usable."""
    socket = await open_socket(server)
    delete = 'mutation { deletePost(id: "UG9zdDox") }'
    for n in range(120):
        query = delete if n % 2 else POST_COUNT
        message = {"id": str(n), "type": "subscribe", "payload": {"query": query}}
        await socket.send(json.dumps(message))
    answers: dict[str, list[dict[str, Any]]] = {}
    finished: set[str] = set()
    while len(finished) < 120:
        message = json.loads(await socket.recv())
        answers.setdefault(message["id"], []).append(message)
        if message["type"] in ("complete", "error"):
            finished.add(message["id"])
    for n in range(120):
        assert_answered(n, answers[str(n)])
    # Once the flood has drained, the same socket serves an operation again.
    again = {"id": "again", "type": "subscribe", "payload": {"query": POST_COUNT}}
    await socket.send(json.dumps(again))
    assert json.loads(await socket.recv())["payload"] == {"data": {"posts": {"totalCount": 0}}}
    await socket.close()
    await assert_still_serves(server)


LIMIT_REACHED = [{"message": "Subscription limit reached", "extensions": {"code": "BAD_REQUEST"}}]


def assert_answered(n: int, messages: list[dict[str, Any]]) -> None:
    """Operation `n` ran (a result, then `complete`) or was over the per-socket cap of 100
    operations in flight (Strawberry's `max_subscriptions_per_connection`)."""
    if messages[0]["type"] == "error":
        assert messages == [{"id": str(n), "type": "error", "payload": LIMIT_REACHED}]
        return
    [result, complete] = messages
    assert (result["type"], complete["type"]) == ("next", "complete")
    if n % 2:
        assert result["payload"]["data"] is None
        assert codes_of(result) == ["UNAUTHENTICATED"]
    else:
        assert result["payload"] == {"data": {"posts": {"totalCount": 0}}}


def codes_of(message: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in message["payload"].get("errors", [])]


BOMB = (
    "{ ...F0 }\n"
    + "\n".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(70))
    + "\nfragment F70 on Query { tags { id } }"
)


async def test_a_page_past_64_bits_and_a_fragment_bomb_are_answered_over_websocket(server):
    """Both measured numbers no JSON encoder takes; each operation still gets its `error`."""
    socket = await open_socket(server)
    huge = await subscribe(socket, "1", "{ posts(first: 4011107580203296620544) { totalCount } }")
    bomb = await subscribe(socket, "2", BOMB)
    after = await subscribe(socket, "3", POST_COUNT)
    await socket.close()
    assert huge == {
        "id": "1",
        "type": "error",
        "payload": [
            {
                "message": "Invalid input.",
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "fields": {"first": "Use a number from 0 to 100."},
                },
            }
        ],
    }
    assert bomb["type"] == "error"
    assert bomb["payload"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "rule": "cost",
        "limit": 10_000,
        "measured": 2**53 - 1,
    }
    assert after["payload"] == {"data": {"posts": {"totalCount": 0}}}
    await assert_still_serves(server)
