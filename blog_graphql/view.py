"""The GraphQL endpoint: Strawberry's ASGI view with our context and JSON encoding."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from blog_graphql.context import Context
from blog_graphql.state import AppState


class BlogGraphQL(GraphQL[Context, None]):
    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context.create(self.state, request=request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
