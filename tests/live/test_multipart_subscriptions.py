"""Apollo's multipart HTTP subscriptions, read with httpx as Apollo Client reads them, on a
real uvicorn; and what every streamed operation shares: the per-address budget, the
shutdown drain."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from blog_graphql.comments.events import post_channel
from tests.factories import auth_headers, create_post, create_user
from tests.live.accounts import short_lived_authorization
from tests.live.clients import RECEIVE_TIMEOUT_SECONDS, graphql_socket
from tests.live.comments import (
    COMMENT_ADDED,
    COMMENT_EVENTS,
    UNPUBLISH_POST,
    add_comment,
    call,
    data,
    listening,
    post_id,
)
from tests.live.conftest import graphql_over_http
from tests.live_server import LiveServer, clean_environment, live_server
from tests.waiting import eventually

# What Apollo Client sends for a subscription over HTTP.
APOLLO_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
DELIMITER = b"\r\n--graphql"


class StreamEnded(Exception):
    """The body ended without the closing boundary."""


class Parts:
    """The JSON parts of a multipart answer, heartbeats (`{}`) skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks = response.aiter_bytes()
        self.buffer = b""
        self.preamble = True

    async def next(self) -> dict[str, Any] | None:
        """The next part; None at the closing boundary."""
        while True:
            part = await self._segment()
            if part is None:
                return None
            if part != {}:
                return part

    async def _segment(self) -> dict[str, Any] | None:
        while (end := self.buffer.find(DELIMITER)) < 0:
            if self.buffer.startswith(b"--"):
                return None
            try:
                chunk = await asyncio.wait_for(anext(self.chunks), RECEIVE_TIMEOUT_SECONDS)
            except StopAsyncIteration:
                raise StreamEnded(self.buffer) from None
            self.buffer += chunk
        segment, self.buffer = self.buffer[:end], self.buffer[end + len(DELIMITER) :]
        if self.preamble:
            self.preamble = False
            return await self._segment()
        head, _, body = segment.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower(), head
        part: dict[str, Any] = orjson.loads(body)
        return part


@asynccontextmanager
async def multipart(
    server: LiveServer, query: str, authorization: str = "", **variables: Any
) -> AsyncIterator[Parts]:
    headers = {"Accept": APOLLO_ACCEPT}
    if authorization:
        headers["Authorization"] = authorization
    body = {"query": query, "variables": variables}
    async with (
        httpx.AsyncClient(timeout=60) as http,
        http.stream("POST", f"{server.url}/graphql", json=body, headers=headers) as response,
    ):
        yield Parts(response)


def unauthenticated(part: dict[str, Any] | None) -> bool:
    """Apollo's fatal transport error: no payload, the session's end as the error."""
    assert part is not None and part["payload"] is None, part
    return [error["extensions"]["code"] for error in part["errors"]] == ["UNAUTHENTICATED"]


async def token(db, settings, user) -> str:
    return (await auth_headers(db, settings, user))["Authorization"]


@pytest.fixture
async def post(db):
    return await create_post(db, author=await create_user(db, username="ada"))


async def test_comments_arrive_as_payload_parts_of_a_no_store_unbuffered_stream(
    serve, db, settings, post
):
    bob = await token(db, settings, await create_user(db, username="bob"))
    with serve() as server:
        async with multipart(server, COMMENT_ADDED, post=post_id(post)) as parts:
            await listening(server, post_channel(post.id), 1)
            comment_id = add_comment(server, bob, post, "hello")
            received = await parts.next()
            headers = parts.response.headers
        async with multipart(server, "{ posts { totalCount } }") as parts:
            answered = [await parts.next(), await parts.next()]
    assert received == {"payload": {"data": {"commentAdded": {
        "id": comment_id, "content": "hello", "isApproved": True, "author": {"username": "bob"},
    }}}}  # fmt: skip
    assert headers["content-type"] == 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'
    assert headers["cache-control"] == "no-store"
    assert headers["x-accel-buffering"] == "no"
    assert answered == [{"payload": {"data": {"posts": {"totalCount": 1}}}}, None]


async def test_a_bad_token_is_refused_as_on_any_http_request(serve, post):
    with serve() as server:
        async with multipart(server, COMMENT_ADDED, "Bearer forged", post=post_id(post)) as parts:
            await parts.response.aread()
            response = parts.response
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"errors": [{"message": "Invalid or expired token.",
                                           "extensions": {"code": "UNAUTHENTICATED"}}]}  # fmt: skip


async def test_logout_and_token_expiry_end_the_stream_with_a_fatal_error(serve, db, settings, post):
    ada = await create_user(db)
    ending = await token(db, settings, ada)
    with serve() as server:
        async with multipart(server, COMMENT_ADDED, ending, post=post_id(post)) as parts:
            await listening(server, post_channel(post.id), 1)
            graphql_over_http(server, "mutation { logout }", ending)
            logged_out = [await parts.next(), await parts.next()]
        expiring = await short_lived_authorization(db, settings, ada, seconds=3)
        async with multipart(server, COMMENT_ADDED, expiring, post=post_id(post)) as parts:
            expired = [await parts.next(), await parts.next()]
    assert unauthenticated(logged_out[0]) and logged_out[1] is None
    assert unauthenticated(expired[0]) and "Token expired" in str(expired[0])
    assert expired[1] is None


async def test_comment_events_end_with_not_found_when_the_post_is_unpublished(
    serve, db, settings, post
):
    ada_token = await token(db, settings, await create_user(db, is_admin=True))
    with serve() as server:
        async with multipart(server, COMMENT_EVENTS, post=post_id(post)) as parts:
            await listening(server, post_channel(post.id), 1)
            data(call(server, UNPUBLISH_POST, ada_token, id=post_id(post)))
            ending = [await parts.next(), await parts.next()]
    assert ending[0] is not None
    assert [error["extensions"]["code"] for error in ending[0]["payload"]["errors"]] == [
        "NOT_FOUND"
    ]
    assert ending[1] is None


async def test_streams_share_the_live_connection_budget_of_their_address(serve, post):
    """`WS_MAX_CONNECTIONS_PER_CLIENT` counts WebSockets and HTTP streams together."""
    with serve(WS_MAX_CONNECTIONS_PER_CLIENT="2") as server:
        async with (
            graphql_socket(server.ws_url) as _socket,
            multipart(server, COMMENT_ADDED, post=post_id(post)) as _first,
            multipart(server, COMMENT_ADDED, post=post_id(post)) as refused,
        ):
            await refused.response.aread()

        async def accepted_again() -> bool:  # once the server saw the others go
            async with multipart(server, COMMENT_ADDED, post=post_id(post)) as again:
                return again.response.status_code == 200

        await eventually(accepted_again, within=20, what="a stream accepted again")
    assert refused.response.status_code == 429
    assert refused.response.headers["retry-after"] == "5"
    assert refused.response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_draining_server_ends_streams_without_completing_them(db, database_url, tmp_path):
    """So that clients reconnect to another instance, as after a WebSocket's 1001; and a
    stream opened while draining ends at once."""
    post = await create_post(db, author=await create_user(db))
    env = clean_environment(DATABASE_URL=database_url, SHUTDOWN_DRAIN_SECONDS="5")
    with live_server(env=env, cwd=tmp_path) as server:
        async with multipart(server, COMMENT_ADDED, post=post_id(post)) as parts:
            server.process.send_signal(signal.SIGTERM)
            with pytest.raises(StreamEnded):
                await parts.next()
        async with multipart(server, COMMENT_ADDED, post=post_id(post)) as late:
            with pytest.raises(StreamEnded):
                await late.next()
        still_serving = server.process.poll() is None
    assert still_serving  # ended by the drain, not by the server's exit
