"""Operations answered as a stream over one HTTP response (SSE, Apollo multipart), for
clients that cannot open a WebSocket, under the rules WebSocket subscriptions follow.

- One operation per request, any type: a subscription streams its events, a query or a
  mutation (POST only) sends one result; either then completes.
- Auth as on any request: a bad token ends an SSE stream at once with one
  UNAUTHENTICATED error (graphql-sse clients would retry an HTTP 401 five times, then
  report a bare network error); a multipart request gets the ordinary JSON refusal.
- Each stream counts as one live connection of its client address (the WebSocket
  budget, `WS_MAX_CONNECTIONS_PER_CLIENT`; over it: 429 RATE_LIMITED), and ends with its
  session like a socket: logout, password change, deactivation or token expiry end it
  with an UNAUTHENTICATED error (a `next` then `complete`; multipart: a fatal part).
- A slow reader is dropped by its bounded event queue, an interrupted event stream or a
  shutting-down server ends the response without `complete`: graphql-sse clients then
  reconnect, as graphql-ws clients do after 1012, 1013 or 1001.
Queries and mutations always run to their answer: only subscriptions are cut short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from blog_graphql.accounts.authentication import bearer_token
from blog_graphql.accounts.tokens import decode_token
from blog_graphql.context import Context
from blog_graphql.errors import BAD_REQUEST, RateLimited, Unauthenticated, internal_error
from blog_graphql.guards.client import address_of
from blog_graphql.http.endpoint import GraphQLEndpoint, is_request_error, refusal_response
from blog_graphql.http.event_streams import SSE, StreamFormat
from blog_graphql.http.persisted import PersistedDocumentError
from blog_graphql.http.protocol import JSON, RequestRefused, authorization_of, read_params
from blog_graphql.http.shutdown import GOING_AWAY, drain_of
from blog_graphql.live import closecodes
from blog_graphql.live.sockets import LiveSocket, LiveSockets
from blog_graphql.observability import metrics, request_info
from blog_graphql.observability.operation_observer import record_errors

logger = logging.getLogger("blog_graphql.http.streaming")

UNAUTHENTICATED = Unauthenticated.code
RATE_LIMITED = RateLimited.code
SESSION_ENDINGS = {closecodes.SESSION_ENDED, closecodes.TOKEN_EXPIRED}
SINGLE_RESULT = {OperationType.QUERY.value, OperationType.MUTATION.value}
RETRY_AFTER_SECONDS = 5
DONE = object()  # the operation has no more results
Results = AsyncGenerator[Any]


class Stream:
    """One streaming response: the operation runs in a task of its own (so one task
    iterates it from start to end, as on a WebSocket), its results are framed as they
    come, heartbeats flow while it is idle, and `end` stops it from any task."""

    def __init__(self, fmt: StreamFormat, scope: Scope) -> None:
        self.format = fmt
        self.scope = scope
        self.start: Callable[[], Awaitable[Results]] | None = None  # runs the operation
        self._results: asyncio.Queue[Any] = asyncio.Queue(1)  # the reader's pace
        self._ending: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._operation: asyncio.Future[None] | None = None
        self._next: asyncio.Future[Any] | None = None  # the pending read of a result

    def end(self, code: int, reason: str) -> None:
        """End the stream (a subscription's; a query or mutation still gets its answer)."""
        if not self._ending.done():
            self._ending.set_result((code, reason))

    async def close(self, code: int, reason: str) -> None:
        """How the live-connection registry ends it (`LiveSocket`'s close)."""
        self.end(code, reason)

    async def going_away(self) -> None:
        self.end(GOING_AWAY, "Server shutting down")

    def stop(self) -> None:
        """The response is over (finished, or the client went away): stop the operation."""
        for task in (self._operation, self._next):
            if task is not None:
                task.cancel()

    async def frames(self) -> AsyncGenerator[bytes]:
        self._operation = asyncio.ensure_future(self._run())
        yield self.format.opening()
        last = False
        while not last:
            frame, last = await self._next_frame()
            yield frame

    async def _next_frame(self) -> tuple[bytes, bool]:
        """The next bytes to send, and whether they are the last."""
        if self._next is None:
            self._next = asyncio.ensure_future(self._results.get())
        waiting: set[asyncio.Future[Any]] = {self._next}
        if not self._runs_to_answer():
            waiting.add(self._ending)
        await asyncio.wait(
            waiting, timeout=self.format.heartbeat_seconds, return_when="FIRST_COMPLETED"
        )
        if self._ending in waiting and self._ending.done():
            return self._last_words(*self._ending.result()), True
        if not self._next.done():
            return self.format.heartbeat(), False
        item, self._next = self._next.result(), None
        if item is DONE:
            return self.format.complete(), True
        return self._encode(item), False

    def _runs_to_answer(self) -> bool:
        info = request_info.of(self.scope)
        return info is not None and info.operation_type in SINGLE_RESULT

    async def _run(self) -> None:
        assert self.start is not None, "the operation is set before the response starts"
        try:
            async with aclosing(await self.start()) as results:
                async for result in results:
                    await self._results.put(result)
        except Exception:  # Strawberry answers the operation's own failures; not this
            logger.exception("streamed operation failed")
            self.end(closecodes.STREAM_INTERRUPTED, "Internal server error")
            return
        await self._results.put(DONE)

    def _encode(self, result: ExecutionResult) -> bytes:
        try:
            return self.format.result(result_body(result))
        except TypeError:  # orjson's: a value JSON cannot hold (as on WebSockets)
            info = request_info.of(self.scope)
            request_id = info.request_id if info is not None else None
            logger.error("unsendable result (request %s)", request_id, exc_info=True)
            return self.format.result({"data": None, "errors": [internal_error(request_id)]})

    def _last_words(self, code: int, reason: str) -> bytes:
        """A session that ended is said (clients then refresh or sign in); anything else
        ends the response without `complete`, so that clients reconnect and refetch."""
        if code not in SESSION_ENDINGS:
            return b""
        record_errors(request_info.of(self.scope), [UNAUTHENTICATED])
        return self.format.fatal({"message": reason, "extensions": {"code": UNAUTHENTICATED}})


def result_body(result: ExecutionResult) -> dict[str, Any]:
    """As over HTTP: a request error (nothing executed) has no `data` entry."""
    body: dict[str, Any] = {} if is_request_error(result) else {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def stream_headers(fmt: StreamFormat) -> dict[str, str]:
    return {
        "Content-Type": fmt.content_type,
        "Cache-Control": "no-store",  # a live answer, and it may carry the viewer's data
        "X-Accel-Buffering": "no",  # nginx would hold events back in its buffer
    }


class StreamResponse(StreamingResponse):
    """The stream as an HTTP response; while it is open it is counted, it is found by
    the shutdown drain, and its live connection is held."""

    def __init__(self, stream: Stream, release: Callable[[], None] = lambda: None) -> None:
        super().__init__(stream.frames(), headers=stream_headers(stream.format))
        self.stream = stream
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        drain = drain_of(scope["app"])
        drain.streams.add(self.stream.going_away)
        if drain.started:
            await self.stream.going_away()
        gauge = metrics.HTTP_STREAMS_OPEN.labels(self.stream.format.name)
        gauge.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            gauge.dec()
            drain.streams.discard(self.stream.going_away)
            self.stream.stop()
            self.release()


def error_stream(request: Request, fmt: StreamFormat, error: dict[str, Any]) -> Response:
    """A stream of one result that only says `error`, then completes."""
    record_errors(request_info.of(request.scope), [error["extensions"]["code"]])
    frames = fmt.opening() + fmt.result({"errors": [error]}) + fmt.complete()
    return StreamingResponse(_once(frames), headers=stream_headers(fmt))


async def _once(frame: bytes) -> AsyncGenerator[bytes]:
    yield frame


class StreamingEndpoint:
    """Reads the request as `GraphQLEndpoint` does, then streams the operation."""

    def __init__(self, schema: BaseSchema, http: GraphQLEndpoint, sockets: LiveSockets) -> None:
        self.schema = schema
        self.http = http
        self.sockets = sockets

    async def __call__(self, request: Request, fmt: StreamFormat) -> Response:
        try:
            params = await read_params(request)
            document = await self.http.persisted_document(params)
        except RequestRefused as refusal:
            record_errors(request_info.of(request.scope), [BAD_REQUEST])
            return refusal_response(refusal, JSON)
        except PersistedDocumentError as error:
            return error_stream(request, fmt, error.formatted())
        await self.http.persisted.register(document)  # its hash was just checked
        stream = Stream(fmt, request.scope)
        socket = self.sockets.open(address_of(request), stream.close)
        if socket is None:
            record_errors(request_info.of(request.scope), [RATE_LIMITED])
            return too_many_streams()
        try:
            context = await self.signed_in(request, socket)
        except Unauthenticated as error:
            self.sockets.release(socket)
            if fmt is not SSE:
                raise  # answered as on any HTTP request
            said = {"message": error.message, "extensions": error.extensions}
            return error_stream(request, fmt, said)
        except BaseException:
            self.sockets.release(socket)
            raise
        stream.start = partial(
            self.schema.stream,
            document.query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            allowed_operation_types=allowed_types(request),
            operation_extensions=params.extensions,
        )
        return StreamResponse(stream, lambda: self.sockets.release(socket))

    async def signed_in(self, request: Request, socket: LiveSocket) -> Context:
        """The request's context; a signed-in stream lives only as long as its session."""
        context: Context = await self.http.get_context(request)
        context.live = socket
        authorization = authorization_of(request)
        if context.viewer is not None and authorization is not None:
            claims = decode_token(context.settings, bearer_token(authorization), "access")
            self.sockets.authenticated(socket, claims)
        return context


def allowed_types(request: Request) -> set[OperationType]:
    """Subscriptions change nothing, so GET serves them (a browser's EventSource uses it)."""
    allowed = {OperationType.QUERY, OperationType.SUBSCRIPTION}
    if request.method == "POST":
        allowed.add(OperationType.MUTATION)
    return allowed


def too_many_streams() -> Response:
    error = {
        "message": "Too many live connections from this address.",
        "extensions": {"code": RATE_LIMITED, "retryAfter": RETRY_AFTER_SECONDS},
    }
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=429,
        media_type=f"{JSON}; charset=utf-8",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
