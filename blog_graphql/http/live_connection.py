"""Both WebSocket protocols with our connection rules: token auth at init, 4403, timeouts.

Strawberry speaks `graphql-transport-ws` and legacy `graphql-ws`, guarded by
`blog_graphql.http.websocket` (message size and shape); these subclasses add what API.md
asks of both alike: the `connection_init` payload's `Authorization`
(key in any case) picks the viewer, a bad token closes with 4403 (legacy Strawberry
would close with 1011), and the legacy protocol gets the same init timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocketState
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyConnectionInitMessage,
)

from blog_graphql.accounts.authentication import bearer_token, viewer_for_token
from blog_graphql.accounts.tokens import decode_token
from blog_graphql.context import Context
from blog_graphql.engine import SharedData
from blog_graphql.errors import Unauthenticated
from blog_graphql.http.middleware import request_id_of
from blog_graphql.http.websocket import (
    BoundedWebSocketAdapter,
    GuardedLegacyWSHandler,
    GuardedTransportWSHandler,
    unsendable,
)
from blog_graphql.live import closecodes

logger = logging.getLogger("blog_graphql.live")
# What asking the database raises while it is down (asyncpg, aiosqlite or a pool timeout).
DATABASE_UNAVAILABLE = (SQLAlchemyError, OSError)


def authorization_param(payload: object) -> object:
    """The `Authorization` entry of a connection_init payload, its key in any case.

    Two entries (`Authorization` and `authorization`) are refused, never one picked.
    """
    if not isinstance(payload, Mapping):
        return None
    values = [
        value
        for key, value in payload.items()
        if isinstance(key, str) and key.lower() == "authorization"
    ]
    if len(values) > 1:
        raise Unauthenticated("Send one Authorization entry, not several.")
    return values[0] if values else None


async def authenticate_connection(context: Context, payload: object) -> None:
    """Set the viewer from the payload's bearer token; no token is anonymous."""
    authorization = authorization_param(payload)
    if authorization is None:
        return
    if not isinstance(authorization, str):
        raise Unauthenticated("Invalid or expired token.")
    token = bearer_token(authorization)
    claims = decode_token(context.settings, token, "access")
    # Through `use_viewer`: loaders apply the viewer's visibility rules.
    context.use_viewer(await viewer_for_token(context.db, context.settings, token))
    context.session_id = claims.session_id
    if context.live is not None:
        context.state.live.sockets.authenticated(context.live, claims)


class TextWebSocketAdapter(BoundedWebSocketAdapter):
    """Sends JSON as text frames (browsers cannot parse binary ones as JSON)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            encoded = spliced(message) or self.view.encode_json(message)
        except TypeError:  # what orjson raises for what it cannot encode
            encoded = self.view.encode_json(unsendable(message, request_id_of(self.ws)))
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except RuntimeError as error:  # we closed it meanwhile (session ended, too slow)
            if self.ws.application_state != WebSocketState.DISCONNECTED:
                raise
            raise WebSocketDisconnected from error


def spliced(message: Mapping[str, object]) -> bytes | None:
    """A result message whose data many sockets share (`engine.SharedData`): its payload,
    encoded once for all of them, spliced after this socket's own `id` and `type`."""
    payload = message.get("payload")
    if not (isinstance(payload, dict) and len(payload) == 1):
        return None
    data = payload.get("data")
    if not isinstance(data, SharedData):
        return None
    head = orjson.dumps({key: value for key, value in message.items() if key != "payload"})
    return b"".join((head[:-1], b',"payload":', data.encoded_payload(), b"}"))


async def close_unavailable(websocket: AsyncWebSocketAdapter, error: Exception) -> None:
    """The database could not say who the token belongs to: a defined close the client
    retries (1013), never a dropped connection (1006)."""
    logger.warning("connection_init: the database is unavailable: %s", type(error).__name__)
    await websocket.close(closecodes.UNAVAILABLE, "Service unavailable, try again later")


class TransportWSHandler(GuardedTransportWSHandler):
    """`graphql-transport-ws` (the `graphql-ws` npm client)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if not self.connection_init_received and not self.connection_timed_out:
            try:
                await authenticate_connection(self.context, message.get("payload"))
            except Unauthenticated:
                self.connection_init_received = True
                await self.websocket.close(closecodes.SESSION_ENDED, "Forbidden")
                return
            except DATABASE_UNAVAILABLE as error:
                self.connection_init_received = True
                await close_unavailable(self.websocket, error)
                return
        await super().handle_connection_init(message)

    async def handle_task_exception(self, error: Exception) -> None:
        if not isinstance(error, WebSocketDisconnected):  # the socket went away: expected
            await super().handle_task_exception(error)


class LegacyWSHandler(GuardedLegacyWSHandler):
    """Legacy `graphql-ws` (subscriptions-transport-ws, older Apollo clients)."""

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            timer.cancel()
            with suppress(asyncio.CancelledError):
                await timer

    async def handle_connection_init(self, message: LegacyConnectionInitMessage) -> None:
        if self.connection_acknowledged:
            await self.websocket.close(closecodes.TOO_MANY_INITS, "Too many initialisations")
            return
        try:
            await authenticate_connection(self.context, message.get("payload"))
        except Unauthenticated as error:
            payload: Any = {"message": error.message, "extensions": error.extensions}
            await self.send_message({"type": "connection_error", "payload": payload})
            await self.websocket.close(closecodes.SESSION_ENDED, "Forbidden")
            return
        except DATABASE_UNAVAILABLE as error:
            await close_unavailable(self.websocket, error)
            return
        await super().handle_connection_init(message)

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(closecodes.INIT_TIMEOUT, "Connection initialisation timeout")
