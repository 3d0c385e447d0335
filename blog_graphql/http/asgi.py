"""Small ASGI pieces the middleware share."""

from __future__ import annotations

from starlette.types import Message, Send

RESPONSE_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.close"})


class WatchedSend:
    """`send`, noting whether the answer has begun: a refusal or an error page may only go
    out before that; afterwards all a middleware can do is let the answer end."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] in RESPONSE_STARTS
        await self.send(message)
