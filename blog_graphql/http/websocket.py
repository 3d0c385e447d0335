"""WebSocket transport guards: message size, message shape, and errors sent (not closes).

Strawberry's handlers trust each message's shape (a subscribe whose payload is a string
crashes the connection task) and close the socket on a syntax error; here a malformed
message closes the socket with 4400 as graphql-ws specifies, and a query that does not
parse is answered with an `error` message carrying GRAPHQL_PARSE_FAILED like any other
pre-execution error, so one bad query does not end every subscription of a page.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, cast

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult

from blog_graphql.errors import BAD_REQUEST

MESSAGE_TOO_BIG = 1009
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024


class BoundedWebSocketAdapter(ASGIWebSocketAdapter):
    """Closes the socket (1009) on a message over the size cap, whatever server runs us."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        limit = getattr(self.view, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text.encode()) > limit:
                    await self.close(MESSAGE_TOO_BIG, "Message too big")
                    return
                try:
                    yield self.view.decode_json(text)
                except ValueError as error:  # orjson's and json's decode errors
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:  # a binary frame
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass


def with_codes(errors: list[Any]) -> list[Any]:
    """Errors Strawberry's handlers write themselves ("Subscription limit reached") get a code."""
    for error in errors:
        if isinstance(error, dict):
            error.setdefault("extensions", {}).setdefault("code", BAD_REQUEST)
    return errors


def _is_optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def valid_operation_payload(payload: object) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and _is_optional(payload.get("variables"), dict)
        and _is_optional(payload.get("operationName"), str)
        and _is_optional(payload.get("extensions"), dict)
    )


def valid_message(message: object, operation_type: str, stop_type: str) -> bool:
    """A message of a known shape: an operation (`subscribe`, legacy `start`) with a string
    id and a payload, and its end (`complete`, legacy `stop`) with a string id (Strawberry
    would look an object up as a key, and the socket would die with a traceback)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if message["type"] == stop_type:
        return isinstance(message.get("id"), str)
    if message["type"] != operation_type:
        return True
    return isinstance(message.get("id"), str) and valid_operation_payload(message.get("payload"))


def _request_error(result: ExecutionResult) -> bool:
    errors = result.errors or []
    return result.data is None and bool(errors) and not any(error.path for error in errors)


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """`graphql-transport-ws` (the `graphql-ws` npm client)."""

    async def handle_message(self, message: Any) -> None:
        if not valid_message(message, "subscribe", "complete"):
            await self.handle_invalid_message("Invalid message")
            return
        await super().handle_message(message)

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None  # answer with an `error` message; the socket stays open

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        """As Strawberry sends results, except that a request error (no data, and errors
        of no field: a subscription's stream that ended with NOT_FOUND once its post was
        hidden) is the operation's `error` message, its last, as graphql-transport-ws has
        it. Field errors stay in a `next`."""
        async for result in result_source:
            if isinstance(result, ExecutionResult) and _request_error(result):
                await operation.send_initial_errors(result.errors or [])
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await operation.send_next(result)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "error":
            with_codes(message["payload"])
        await super().send_message(message)


class GuardedLegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """The legacy `graphql-ws` subprotocol (subscriptions-transport-ws)."""

    async def handle_message(self, message: Any) -> None:
        if not valid_message(message, "start", "stop"):
            error = {"message": "Invalid message", "extensions": {"code": BAD_REQUEST}}
            operation_id = message.get("id") if isinstance(message, dict) else None
            reply = {"type": "error", "id": operation_id, "payload": error}
            await self.send_message(cast(Any, reply))
            return
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "error":
            with_codes([message["payload"]])
        await super().send_message(message)
