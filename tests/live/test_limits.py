"""Limits on a real uvicorn: subscriptions per socket, sockets per address, message size,
and a slow consumer cut off without slowing the others."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.live.clients import (
    ECHO,
    PROTOCOLS,
    TRANSPORT_WS,
    graphql_socket,
    small_receive_buffer_socket,
    subscribe_echo,
)
from tests.live.conftest import publish


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_beyond_the_limit_are_refused_and_the_others_keep_working(
    serve, protocol
):
    with serve(WS_MAX_SUBSCRIPTIONS_PER_CONNECTION="2") as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            await socket.init()
            await subscribe_echo(socket, "1", "a")
            await subscribe_echo(socket, "2", "a")
            await socket.subscribe("3", ECHO, channel="a")
            refused = await socket.receive()
            publish(server, "a", "still here")
            received = {(await socket.receive())["id"] for _ in range(2)}
    assert refused["type"] == "error" and refused["id"] == "3"
    assert "Subscription limit reached" in str(refused["payload"])
    assert received == {"1", "2"}


async def test_connections_beyond_the_per_address_limit_get_429_until_one_closes(serve):
    with serve(WS_MAX_CONNECTIONS_PER_CLIENT="2") as server:
        async with graphql_socket(server.ws_url) as first, graphql_socket(server.ws_url):
            await first.init()
            with pytest.raises(InvalidStatus) as refused:
                async with graphql_socket(server.ws_url):
                    pass
        async with graphql_socket(server.ws_url) as again:
            accepted = await again.init()
    assert refused.value.response.status_code == 429
    assert accepted["type"] == "connection_ack"


async def test_a_message_over_the_size_cap_closes_the_socket_with_1009(serve):
    with serve(WS_MAX_MESSAGE_BYTES="2048") as server:
        async with graphql_socket(server.ws_url) as socket:
            await socket.init({"padding": "x" * 1500})  # under the cap: fine
            await socket.send({"type": "connection_init", "payload": {"x": "y" * 4096}})
            assert await socket.close_code() == 1009


async def test_a_slow_consumer_is_disconnected_and_the_others_get_every_event(serve):
    rounds, per_round, kilobytes = 24, 25, 50
    with serve(WS_SUBSCRIBER_QUEUE_SIZE="64") as server:
        # It stops reading from TCP once one message waits, into a receive buffer that
        # cannot grow, uncompressed: the server's writes to it soon block.
        slow_tcp = small_receive_buffer_socket(server.port)
        async with (
            graphql_socket(
                server.ws_url, TRANSPORT_WS, max_queue=1, compression=None, sock=slow_tcp
            ) as slow,
            graphql_socket(server.ws_url) as fast,
        ):
            for socket in (slow, fast):
                await socket.init()
                await subscribe_echo(socket, "1", "firehose")
            received = asyncio.create_task(count_events(fast, rounds * per_round))
            for _ in range(rounds):
                await asyncio.to_thread(
                    publish, server, "firehose", "x", count=per_round, repeat=kilobytes * 1024
                )
            fast_count = await received
            slow_count, slow_code = await count_until_closed(slow)
    assert fast_count == rounds * per_round
    assert slow_count < rounds * per_round
    # 1013 when the close frame gets through; 1006 when the server had to abort the
    # connection because the client's TCP window stayed shut.
    assert slow_code in (1013, 1006)


async def count_events(socket, expected: int) -> int:
    count = 0
    while count < expected:
        await socket.next_data("1")
        count += 1
    return count


async def count_until_closed(socket) -> tuple[int, int | None]:
    count = 0
    try:
        while True:
            await socket.next_data("1")
            count += 1
    except ConnectionClosed:
        return count, socket.ws.close_code
