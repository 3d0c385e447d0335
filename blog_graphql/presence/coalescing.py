"""Bursts folded into one action: at most one run per window, never a change left behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

logger = logging.getLogger("blog_graphql.presence")


class Coalesced:
    """`poke()` runs `action` at once if it is idle; pokes while it runs, or within
    `window` seconds after a run started, fold into one more run after the window."""

    def __init__(self, name: str, action: Callable[[], Awaitable[None]], window: float) -> None:
        self._name = name
        self._action = action
        self._window = window
        self._pending = False
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._pending:
            self._pending = False
            started = asyncio.get_running_loop().time()
            try:
                await self._action()
            except Exception:  # the next poke tries again; the failure is not the caller's
                logger.warning("presence: %s failed", self._name, exc_info=True)
            await asyncio.sleep(
                max(0.0, started + self._window - asyncio.get_running_loop().time())
            )

    async def close(self) -> None:
        self._pending = False
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task


class Announcer:
    """Tells every instance that posts' presence changed: one message per post and window,
    however many changes this instance made meanwhile."""

    def __init__(self, publish: Callable[[int], Awaitable[None]], window: float) -> None:
        self._publish = publish
        self._posts: set[int] = set()
        self._flush = Coalesced("announcing", self._publish_pending, window)

    def announce(self, post_id: int) -> None:
        self._posts.add(post_id)
        self._flush.poke()

    async def _publish_pending(self) -> None:
        posts, self._posts = self._posts, set()
        for post_id in posts:
            await self._publish(post_id)

    async def close(self) -> None:
        """Stop, telling the others of what is still pending (best effort: shutting down)."""
        await self._flush.close()
        with suppress(Exception):
            await self._publish_pending()
