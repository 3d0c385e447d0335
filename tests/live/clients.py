"""A small GraphQL-over-WebSocket client speaking either protocol, on `websockets`."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)
# Generous: a test fails on a missing message instead of hanging, never on speed.
RECEIVE_TIMEOUT_SECONDS = 20.0
# Legacy message names, mapped onto graphql-transport-ws ones.
LEGACY_TYPES = {"data": "next", "start": "subscribe", "stop": "complete"}


class GraphQLSocket:
    """One connection: init, subscribe, then read messages by operation."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol

    async def send(self, message: dict[str, Any]) -> None:
        if self.protocol == LEGACY_WS:
            back = {new: old for old, new in LEGACY_TYPES.items()}
            message = {**message, "type": back.get(message["type"], message["type"])}
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message other than keep-alives, with transport-ws type names."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT_SECONDS)
            assert isinstance(raw, str), "GraphQL messages must be text frames"
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif message["type"] not in ("ka", "pong"):
                message["type"] = LEGACY_TYPES.get(message["type"], message["type"])
                return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def next_data(self, op_id: str) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == "next" and message["id"] == op_id, message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def next_data_of(self, *op_ids: str) -> dict[str, dict[str, Any]]:
        """The next data of each of `op_ids`, in whichever order they come: the server
        keeps order within one operation, never between two."""
        found: dict[str, dict[str, Any]] = {}
        while len(found) < len(op_ids):
            message = await self.receive()
            awaited = message["id"] in op_ids and message["id"] not in found
            assert message["type"] == "next" and awaited, message
            found[message["id"]] = message["payload"]["data"]
        return found

    async def close_code(self) -> int | None:
        """Read until the server closes the connection; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT_SECONDS)
        except ConnectionClosed:
            pass
        return self.ws.close_code


@asynccontextmanager
async def graphql_socket(
    url: str, protocol: str = TRANSPORT_WS, **options: Any
) -> AsyncIterator[GraphQLSocket]:
    async with connect(url, subprotocols=[protocol], **options) as ws:  # type: ignore[list-item]
        yield GraphQLSocket(ws, protocol)


ECHO = "subscription Echo($channel: String!) { echo(channel: $channel) }"
VIEWER = "subscription { viewer }"


async def subscribe_echo(socket: GraphQLSocket, op_id: str, channel: str) -> None:
    """Subscribe to `channel` and wait until the server says it is listening."""
    await socket.subscribe(op_id, ECHO, channel=channel)
    assert await socket.next_data(op_id) == {"echo": "ready"}


def small_receive_buffer_socket(port: int) -> socket.socket:
    """A connected TCP socket whose receive buffer cannot grow: a client that falls behind."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def subscribe_no_wait(socket: GraphQLSocket) -> None:
    await socket.subscribe("1", ECHO, channel="any")
