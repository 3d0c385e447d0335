"""The GraphQL endpoint: Strawberry's ASGI view with our context and JSON encoding."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from blog_graphql.accounts.authentication import viewer_for_header
from blog_graphql.context import Context
from blog_graphql.errors import Unauthenticated
from blog_graphql.state import AppState

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


class BlogGraphQL(GraphQL[Context, None]):
    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context.create(self.state, request=request)
        if isinstance(request, Request):
            # A present but invalid header fails the whole request (see `run`).
            authorization = request.headers.get("authorization")
            context.viewer = await viewer_for_header(
                self.state.db, self.state.settings, authorization
            )
            if context.viewer is not None:
                context.loaders.user.prime(context.viewer.id, context.viewer)
        return context

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            return await super().run(request, context, root_value)
        except Unauthenticated as error:
            return unauthenticated_response(request, error)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def unauthenticated_response(request: Request | WebSocket, error: Unauthenticated) -> Response:
    """One UNAUTHENTICATED error for the whole request, so clients know to refresh."""
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    wants_graphql_response = GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")
    return Response(
        orjson.dumps(body),
        status_code=401 if wants_graphql_response else 200,
        media_type=GRAPHQL_RESPONSE_JSON if wants_graphql_response else "application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
