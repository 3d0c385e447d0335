"""Streamed answers over HTTP, in-process: which Accept headers stream, and how a stream
ends when its session ends, its reader is too slow, or the server drains."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from blog_graphql.http.event_streams import MULTIPART, SSE, stream_format
from blog_graphql.http.streaming import Stream
from blog_graphql.live import closecodes

APOLLO_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/event-stream", SSE),
        ("text/event-stream, application/json", SSE),
        ("application/json;q=0.9, text/event-stream", SSE),
        (APOLLO_ACCEPT, MULTIPART),
        ('multipart/mixed;subscriptionSpec="1.0"', MULTIPART),
        (None, None),
        ("application/json", None),
        ("application/graphql-response+json, application/json;q=0.9", None),
        ("*/*", None),
        ("application/json, text/event-stream;q=0.5", None),
        ("text/event-stream;q=0", None),
        ("multipart/mixed", None),  # @defer's, which is not served
        ("multipart/mixed;deferSpec=20220824, application/json", None),
    ],
)
def test_only_an_event_stream_or_apollos_subscription_spec_asks_for_a_stream(accept, expected):
    assert stream_format(accept) is expected


async def stream_of(*results: dict[str, Any], then_wait: bool = True) -> Stream:
    async def operation() -> AsyncGenerator[ExecutionResult]:
        for data in results:
            yield ExecutionResult(data=data, errors=None)
        if then_wait:
            await asyncio.Future()  # a subscription waiting for its next event

    async def start() -> AsyncGenerator[ExecutionResult]:
        return operation()

    stream = Stream(SSE, {"type": "http"})
    stream.start = start
    return stream


async def test_a_subscription_whose_session_ended_says_unauthenticated_then_completes():
    stream = await stream_of({"n": 1})
    body = stream.frames()
    assert await anext(body) == b""  # SSE has no preamble
    assert await anext(body) == b'event: next\ndata: {"data":{"n":1}}\n\n'
    await stream.close(closecodes.SESSION_ENDED, "Session ended")
    assert await anext(body) == (
        b'event: next\ndata: {"errors":[{"message":"Session ended",'
        b'"extensions":{"code":"UNAUTHENTICATED"}}]}\n\nevent: complete\ndata:\n\n'
    )
    with pytest.raises(StopAsyncIteration):
        await anext(body)
    stream.stop()


@pytest.mark.parametrize("code", [closecodes.SLOW_CONSUMER, closecodes.STREAM_INTERRUPTED, 1001])
async def test_a_dropped_interrupted_or_drained_subscription_ends_without_complete(code):
    """graphql-sse clients reconnect when the stream ends before `complete`."""
    stream = await stream_of()
    body = stream.frames()
    await anext(body)
    await stream.close(code, "reason")
    assert await anext(body) == b""
    with pytest.raises(StopAsyncIteration):
        await anext(body)
    stream.stop()


async def test_an_operation_that_finishes_completes():
    stream = await stream_of({"n": 1}, then_wait=False)
    body = stream.frames()
    frames = [frame async for frame in body]
    assert frames[1:] == [b'event: next\ndata: {"data":{"n":1}}\n\n', b"event: complete\ndata:\n\n"]


async def test_the_multipart_format_frames_payloads_heartbeats_and_fatal_errors():
    error = {"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}
    part = b"\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
    assert MULTIPART.opening() == b"\r\n--graphql"
    payload = b'{"payload":{"data":{"n":1}}}'
    assert MULTIPART.result({"data": {"n": 1}}) == part + payload + b"\r\n--graphql"
    assert MULTIPART.heartbeat() == part + b"{}\r\n--graphql"
    assert MULTIPART.fatal(error) == (
        part + b'{"payload":null,"errors":[{"message":"Token expired",'
        b'"extensions":{"code":"UNAUTHENTICATED"}}]}\r\n--graphql--\r\n'
    )


async def test_a_response_that_is_over_closes_its_operation():
    """The client went away: the subscription's generator is closed (its pub/sub
    subscription released), not left waiting for an event."""
    closed = asyncio.Event()

    async def operation() -> AsyncGenerator[ExecutionResult]:
        try:
            await asyncio.Future()
            yield ExecutionResult(data=None, errors=None)
        finally:
            closed.set()

    async def start() -> AsyncGenerator[ExecutionResult]:
        return operation()

    stream = Stream(SSE, {"type": "http"})
    stream.start = start
    body = stream.frames()
    await anext(body)
    waiting = asyncio.ensure_future(anext(body))
    await asyncio.sleep(0.01)
    stream.stop()
    await asyncio.wait_for(closed.wait(), 5)
    waiting.cancel()


SSE_ACCEPT = {"Accept": "text/event-stream"}


async def test_a_query_over_sse_is_one_next_event_then_complete(client):
    response = await client.post(
        "/graphql", json={"query": "{ posts { totalCount } }"}, headers=SSE_ACCEPT
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text == (
        'event: next\ndata: {"data":{"posts":{"totalCount":0}}}\n\nevent: complete\ndata:\n\n'
    )


async def test_errors_before_execution_are_events_and_malformed_requests_stay_http(client):
    """graphql-sse's rule: validation (and an unknown persisted query) is reported inside
    the stream; a body that is not a GraphQL request at all is refused as over HTTP."""
    unknown = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    persisted = await client.post("/graphql", json=unknown, headers=SSE_ACCEPT)
    invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=SSE_ACCEPT)
    mutation = await client.get(
        "/graphql", params={"query": "mutation { logout }"}, headers=SSE_ACCEPT
    )
    malformed = await client.post(
        "/graphql", content=b"{", headers={**SSE_ACCEPT, "Content-Type": "application/json"}
    )
    assert '"code":"PERSISTED_QUERY_NOT_FOUND"' in persisted.text
    assert '"code":"GRAPHQL_VALIDATION_FAILED"' in invalid.text
    assert '"code":"BAD_REQUEST"' in mutation.text  # mutations need POST
    for answer in (persisted, invalid, mutation):
        assert answer.text.startswith("event: next\n")
        assert answer.text.endswith("event: complete\ndata:\n\n")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
