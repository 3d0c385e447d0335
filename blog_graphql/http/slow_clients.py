"""Bounds on slow clients: a request's headers and its body must each arrive in time.

uvicorn has no header read timeout (only the keep-alive one, which the first byte of a
request cancels), so a client that trickles its headers ("slowloris") or its body would
hold a connection, and a task, for ever. The headers are bounded in uvicorn's protocol
(`serve` selects it with `http=`), the body in an ASGI middleware; both answer 408 with
a JSON GraphQL error and close the connection. So does a request that is not HTTP at
all, which uvicorn would answer in plain text.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from blog_graphql.errors import BAD_REQUEST
from blog_graphql.http.asgi import WatchedSend

logger = logging.getLogger("blog_graphql.http")
REQUEST_TIMEOUT = 408


def error_body(message: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": BAD_REQUEST}}]})


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a request's head must be complete within
    `HTTP_HEADER_TIMEOUT_SECONDS` of the connection opening or of the previous answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from blog_graphql.config.settings import get_settings  # each worker process reads its own

        self.header_timeout = get_settings().http_header_timeout_seconds
        self.header_timer: asyncio.TimerHandle | None = None
        self.head_received = False  # a byte of the pending request's head arrived

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        self.head_received = self.head_received or self.header_timer is not None
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # a next request whose head is already complete
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._arm_header_timer()  # the next request's head, if any, is timed anew

    def handle_websocket_upgrade(self) -> None:
        self._disarm_header_timer()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A request that is not HTTP at all (no application saw it): uvicorn answers in
        text; the contract says every failure is a JSON GraphQL error."""
        self._disarm_header_timer()
        self.transport.write(raw_response(400, "Bad Request", msg))
        self.transport.close()

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self.head_received = False
        self.header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        if self.head_received:  # an idle keep-alive connection just closes
            logger.warning("request headers too slow from %s", self.client)
            message = "The request headers took too long to arrive."
            self.transport.write(raw_response(REQUEST_TIMEOUT, "Request Timeout", message))
        self.transport.close()


def raw_response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer with a BAD_REQUEST error, written before any application
    saw the request (so no layer of ours adds headers to it)."""
    body = error_body(message)
    head = [
        f"HTTP/1.1 {status} {reason}".encode(),
        b"content-type: application/json; charset=utf-8",
        b"content-length: " + str(len(body)).encode(),
        b"x-request-id: " + os.urandom(16).hex().encode(),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class BodyTimedOut(Exception):
    pass


class BodyReadTimeout:
    """Answers 408 (and closes) when a request's body is not all there `seconds` after its
    headers. What the application reads after the body (a disconnect) is not timed."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = False
        watched = WatchedSend(send)

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimedOut from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        try:
            await self.app(scope, timed_receive, watched)
        except BodyTimedOut:
            logger.warning("request body too slow from %s", scope.get("client"))
            if not watched.started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        body = error_body(f"The request body took more than {self.seconds:g} s to arrive.")
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the rest of the body is not worth waiting for
        ]
        await send({"type": "http.response.start", "status": REQUEST_TIMEOUT, "headers": headers})
        await send({"type": "http.response.body", "body": body})
