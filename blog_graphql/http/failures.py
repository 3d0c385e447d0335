"""The last net: whatever fails under it, the client gets a JSON GraphQL error, never a text 500.

It sits inside the layers that give every answer its request id, security and CORS headers,
so its answer carries them too. The failure is logged here once, with its traceback and the
request id, and goes no further: Starlette and uvicorn would log it again and answer in text.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from blog_graphql.errors import INTERNAL_SERVER_ERROR, internal_error
from blog_graphql.http.asgi import WatchedSend
from blog_graphql.http.protocol import JSON, RequestRefused, negotiate
from blog_graphql.observability import request_info
from blog_graphql.observability.operation_observer import record_errors

logger = logging.getLogger("blog_graphql.errors")
# "Going away" is no answer for a socket whose server failed: 1011 is "internal error".
WEBSOCKET_INTERNAL_ERROR = 1011


class CatchFailures:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except ClientDisconnect:
            return  # the client left while we read its body: no one to answer
        except Exception as error:
            request_id = (scope.get("state") or {}).get("request_id")  # set further out
            logger.error("unexpected failure (request %s)", request_id, exc_info=error)
            record_errors(request_info.of(scope), [INTERNAL_SERVER_ERROR])
            if not watched.started:  # once an answer has begun, all that is left is to end it
                await answer_failure(scope, send, request_id)


async def answer_failure(scope: Scope, send: Send, request_id: str | None) -> None:
    if scope["type"] == "websocket":
        with suppress(Exception):  # the socket may already be gone
            await send({"type": "websocket.close", "code": WEBSOCKET_INTERNAL_ERROR})
        return
    body = orjson.dumps({"errors": [internal_error(request_id)]})
    headers = [
        (b"content-type", f"{response_media(scope)}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def response_media(scope: Scope) -> str:
    """The media type the client asked for, as the endpoint would have answered."""
    accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
    try:
        return negotiate(accept.decode("latin-1"))
    except RequestRefused:
        return JSON
