"""The open WebSockets of this instance: per-address limits and the session check.

Ended sessions are found by polling rather than by messages from the accounts
mutations: every `ws_session_check_seconds` one statement asks which sessions behind
this instance's authenticated sockets are still live (not revoked, not expired, user
active), and the others are closed with SESSION_ENDED. Logout, password change,
deactivation, a session revoked by hand in the database or by another instance: all
are seen within one period on every instance, with nothing to wire into each mutation
and nothing lost if a message would have been. The same tick closes sockets whose
access token expired (TOKEN_EXPIRED), so no per-socket timer is needed either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from itertools import islice

from blog_graphql.accounts.authentication import live_session_ids
from blog_graphql.accounts.tokens import Claims
from blog_graphql.db.database import Database, utcnow
from blog_graphql.live import closecodes

logger = logging.getLogger("blog_graphql.live.sockets")

CloseSocket = Callable[[int, str], Awaitable[None]]
# Both PostgreSQL (asyncpg) and SQLite accept this many bound parameters in a statement.
SESSIONS_PER_STATEMENT = 10_000


class LiveSocket:
    """One open WebSocket: who is behind it and how to close it from anywhere."""

    def __init__(self, address: str, close: CloseSocket) -> None:
        self.address = address
        self.session_id: str | None = None
        self.token_expires_at: datetime | None = None
        self._close = close
        self._closing: asyncio.Task[None] | None = None

    @property
    def closed(self) -> asyncio.Task[None] | None:
        """The closing task, once closing has started."""
        return self._closing

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket from any task, once; never waits for a slow client."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close_quietly(code, reason))

    async def _close_quietly(self, code: int, reason: str) -> None:
        with suppress(Exception):  # already gone: nothing left to close
            await self._close(code, reason)


class LiveSockets:
    """Registry of this instance's sockets, with the periodic session check."""

    def __init__(self, db: Database, *, per_address: int, check_seconds: float) -> None:
        self._db = db
        self._per_address_limit = per_address
        self._check_seconds = check_seconds
        self._by_address: Counter[str] = Counter()
        self._authenticated: set[LiveSocket] = set()
        self._checker: asyncio.Task[None] | None = None

    def open(self, address: str, close: CloseSocket) -> LiveSocket | None:
        """A registered socket, or None when `address` already has its share."""
        if self._by_address[address] >= self._per_address_limit:
            return None
        self._by_address[address] += 1
        return LiveSocket(address, close)

    def release(self, socket: LiveSocket) -> None:
        self._by_address[socket.address] -= 1
        if self._by_address[socket.address] <= 0:
            del self._by_address[socket.address]
        self._authenticated.discard(socket)

    def authenticated(self, socket: LiveSocket, claims: Claims) -> None:
        """From now on the socket lives only as long as its session and token."""
        socket.session_id = claims.session_id
        socket.token_expires_at = claims.expires_at
        self._authenticated.add(socket)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._check_forever())

    @property
    def count(self) -> int:
        return sum(self._by_address.values())

    async def check_sessions(self) -> None:
        """Close sockets whose token expired or whose session ended."""
        now = utcnow()
        for socket in list(self._authenticated):
            if socket.token_expires_at is not None and socket.token_expires_at <= now:
                self._end(socket, closecodes.TOKEN_EXPIRED, "Token expired")
        by_session: dict[str, list[LiveSocket]] = {}
        for socket in self._authenticated:
            by_session.setdefault(socket.session_id or "", []).append(socket)
        live: set[str] = set()
        ids = iter(by_session)
        while batch := list(islice(ids, SESSIONS_PER_STATEMENT)):
            live |= await live_session_ids(self._db, batch)
        for session_id, sockets in by_session.items():
            if session_id not in live:
                for socket in sockets:
                    self._end(socket, closecodes.SESSION_ENDED, "Session ended")

    async def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with suppress(asyncio.CancelledError):
                await self._checker

    def _end(self, socket: LiveSocket, code: int, reason: str) -> None:
        self._authenticated.discard(socket)
        socket.close_soon(code, reason)

    async def _check_forever(self) -> None:
        while self._authenticated:
            await asyncio.sleep(self._check_seconds)
            try:
                await self.check_sessions()
            except Exception:  # a database hiccup: keep the sockets, check again next tick
                logger.exception("session check failed")
