"""Graceful shutdown of a serving process: what SIGTERM sets in motion, and in which order.

1. Draining: `/readyz` answers 503 so load balancers stop choosing this instance, new
   WebSockets are turned away and every drain hook runs (open WebSockets are closed with
   1001 Going Away, so clients reconnect to another instance).
2. `SHUTDOWN_DRAIN_SECONDS` later (time for the balancer's next health check), uvicorn's
   own shutdown: it stops accepting connections, lets in-flight requests finish (up to
   `SHUTDOWN_TIMEOUT_SECONDS`), then runs the app's lifespan shutdown, where the
   in-process worker finishes the jobs in hand and connections are closed.
A second SIGTERM skips the wait.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("blog_graphql.shutdown")
DrainHook = Callable[[], Awaitable[None]]
GOING_AWAY = 1001  # WebSocket close code: the server is going down
REASON = "Server shutting down"


class Drain:
    """One serving process's shutdown state, kept on the Starlette app (`app.state.drain`)."""

    def __init__(self) -> None:
        self.started = False
        self.hooks: list[DrainHook] = []
        self.websockets: set[DrainHook] = set()  # how to close each open WebSocket
        self.streams: set[DrainHook] = set()  # how to end each streamed subscription (SSE)

    def on_drain(self, hook: DrainHook) -> None:
        self.hooks.append(hook)

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        logger.info("draining: readiness is now 503; closing WebSockets and event streams")
        closing = [*self.hooks, *self.websockets, *self.streams]
        results = await asyncio.gather(*(hook() for hook in closing), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.error("drain hook failed", exc_info=result)


def drain_of(app: Any) -> Drain:
    """The app's drain state (created on first use, so every app has one)."""
    state = app.state
    if not hasattr(state, "drain"):
        state.drain = Drain()
    drain: Drain = state.drain
    return drain


def is_draining(app: Any) -> bool:
    return drain_of(app).started


class DrainWebSockets:
    """Closes open WebSockets with 1001 when draining starts, and turns new ones away.

    At the ASGI level, so it covers every WebSocket handler: once it has closed a socket
    it drops what the handler still sends, instead of letting uvicorn raise on it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        drain = drain_of(scope["app"])
        if drain.started:
            await send({"type": "websocket.close", "code": GOING_AWAY})
            return
        closed = False

        async def going_away() -> None:
            nonlocal closed
            if not closed:
                closed = True
                await send({"type": "websocket.close", "code": GOING_AWAY, "reason": REASON})

        async def guarded_send(message: Message) -> None:
            nonlocal closed
            if closed:
                return
            if message["type"] == "websocket.accept":
                drain.websockets.add(going_away)
            closed = message["type"] == "websocket.close"
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        finally:
            drain.websockets.discard(going_away)


def install(app: Starlette, delay_seconds: float) -> None:
    """Put draining in front of the SIGTERM handler uvicorn installed (call while serving).

    uvicorn installs its handler before it loads the app, so the app factory finds it
    here; outside uvicorn (no handler of its own) nothing changes.
    """
    uvicorn_exit = signal.getsignal(signal.SIGTERM)
    if not callable(uvicorn_exit):
        return
    loop = asyncio.get_running_loop()
    drain = drain_of(app)
    pending: list[asyncio.Task[None]] = []

    async def drain_then_exit(sig: int) -> None:
        await drain.start()
        await asyncio.sleep(delay_seconds)
        uvicorn_exit(sig, None)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if drain.started:  # a second SIGTERM: no more waiting
            uvicorn_exit(sig, frame)
            return
        loop.call_soon_threadsafe(lambda: pending.append(loop.create_task(drain_then_exit(sig))))

    signal.signal(signal.SIGTERM, on_sigterm)
