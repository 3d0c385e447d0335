"""The GraphQL endpoint: strict GraphQL over HTTP, Strawberry's WebSocket protocols, our context."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.websocket_origin import normalize_origin
from strawberry.types.unset import UNSET

from blog_graphql.accounts.authentication import authenticate_header
from blog_graphql.context import Context
from blog_graphql.errors import Unauthenticated
from blog_graphql.guards.client import address_of
from blog_graphql.http.cached_queries import CachedQueries
from blog_graphql.http.endpoint import GraphQLEndpoint, PageRenderer, no_store_if_private
from blog_graphql.http.event_streams import stream_format
from blog_graphql.http.live_connection import (
    LegacyWSHandler,
    TextWebSocketAdapter,
    TransportWSHandler,
)
from blog_graphql.http.middleware import request_id_of
from blog_graphql.http.persisted import PersistedDocuments
from blog_graphql.http.protocol import GRAPHQL_RESPONSE_JSON, authorization_of
from blog_graphql.http.response_cache import ResponseCache
from blog_graphql.http.streaming import StreamingEndpoint
from blog_graphql.observability import request_info
from blog_graphql.observability.operation_observer import record_errors
from blog_graphql.state import AppState

# Legacy `graphql-ws` clients expect "ka" messages; they also keep idle proxies open.
LEGACY_KEEP_ALIVE_SECONDS = 20.0


class BlogGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        state: AppState,
        graphiql: PageRenderer | None = None,
        allowed_origin_pattern: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(graphql_ide=None, **kwargs)
        self.state = state
        self.allowed_origin_pattern = (
            re.compile(allowed_origin_pattern) if allowed_origin_pattern else None
        )
        self.max_message_bytes = state.settings.ws_max_message_bytes
        self.max_subscriptions_per_connection = state.settings.ws_max_subscriptions_per_connection
        self.keep_alive = True
        self.keep_alive_interval = LEGACY_KEEP_ALIVE_SECONDS
        self.persisted = PersistedDocuments.from_settings(state.settings, state.rate_limiter.pool)
        self.response_cache = response_cache_of(state)
        cached = CachedQueries(self.response_cache, self.admit)
        self.http = GraphQLEndpoint(
            self.schema,
            self.get_http_context,
            graphiql,
            self.persisted,
            cached,
            max_upload_bytes=state.settings.media_max_upload_bytes,
        )
        self.streams = StreamingEndpoint(self.schema, self.http, state.live.sockets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # WebSocket: Strawberry's protocols
            return
        request = Request(scope, receive)
        try:
            if (stream := stream_format(request.headers.get("accept"))) is not None:
                response = await self.streams(request, stream)  # SSE, Apollo multipart
            else:
                response = await self.http(request)
        except Unauthenticated as error:
            response = unauthenticated_response(request, error)
        await no_store_if_private(request, response)(scope, receive, send)

    async def admit(self, request: Request) -> int | None:
        """A request answered from the cache spends its per-client budget all the same
        (when rate limits are on: off, a hit needs no round trip to their store)."""
        if not self.state.settings.rate_limit_enabled:
            return None
        return await self.state.rate_limiter.check_operation(address_of(request), None)

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        """The listed origins, and those the pattern allows (as CORS does for HTTP)."""
        if super().is_websocket_origin_allowed(request, origin):
            return True
        normalized = normalize_origin(origin)
        pattern = self.allowed_origin_pattern
        return bool(pattern and normalized and pattern.fullmatch(normalized))

    async def get_http_context(self, request: Request) -> Context:
        return await self.get_context(request, Response())

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        authenticated = None
        if isinstance(request, Request):
            # A present but invalid header fails the whole request (see `__call__`).
            authorization = authorization_of(request)
            authenticated = await authenticate_header(
                self.state.db, self.state.settings, authorization
            )
        # Loaders apply the viewer's visibility rules, so they are built knowing the viewer.
        viewer = authenticated.user if authenticated is not None else None
        context = Context.create(
            self.state, viewer=viewer, request=request, request_id=request_id_of(request)
        )
        context.session_id = authenticated.session_id if authenticated is not None else None
        if viewer is not None and (info := request_info.of(request.scope)) is not None:
            info.user_id = viewer.id  # for the access log
        if isinstance(request, WebSocket):
            context.live = getattr(request.state, "live_socket", None)
        return context

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        """Only WebSockets reach Strawberry's `run` (`__call__` answers HTTP itself); each
        counts against its address's limit for as long as it is open."""
        websocket = request
        assert isinstance(websocket, WebSocket)
        socket = self.state.live.sockets.open(address_of(websocket), websocket.close)
        if socket is None:
            await websocket.send_denial_response(
                Response("Too many WebSocket connections from this address.", status_code=429)
            )
            return websocket
        websocket.state.live_socket = socket
        try:
            return await super().run(websocket, context, root_value)
        finally:
            self.state.live.sockets.release(socket)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def response_cache_of(state: AppState) -> ResponseCache | None:
    """The app's response cache, told of every committed write (None when switched off)."""
    if not state.settings.response_cache_enabled:
        return None
    cache = ResponseCache.from_settings(state.settings, state.rate_limiter.pool)
    state.db.write_observers.append(cache.invalidate)

    async def close() -> None:
        state.db.write_observers.remove(cache.invalidate)  # the database may outlive the app
        await cache.close()

    state.closing.append(close)
    return cache


def unauthenticated_response(request: Request | WebSocket, error: Unauthenticated) -> Response:
    """One UNAUTHENTICATED error for the whole request, so clients know to refresh."""
    record_errors(request_info.of(request.scope), [error.code])
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    wants_graphql_response = GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")
    return Response(
        orjson.dumps(body),
        status_code=401 if wants_graphql_response else 200,
        media_type=GRAPHQL_RESPONSE_JSON if wants_graphql_response else "application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
