"""WebSocket transport guards: message size, message shape, and errors sent (not closes).

Strawberry's handlers trust each message's shape (a subscribe whose payload is a string
crashes the connection task) and close the socket on a syntax error; here a malformed
message closes the socket with 4400 as graphql-ws specifies, and a query that does not
parse is answered with an `error` message carrying GRAPHQL_PARSE_FAILED like any other
pre-execution error, so one bad query does not end every subscription of a page.
An operation may name a persisted document (`documentId`, `extensions.persistedQuery`)
instead of carrying its text, as over HTTP; with TRUSTED_DOCUMENTS_ONLY nothing else runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
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

from blog_graphql.errors import BAD_REQUEST, internal_error
from blog_graphql.http.persisted import PersistedDocumentError, PersistedDocuments

logger = logging.getLogger("blog_graphql.errors")

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


def unsendable(message: Mapping[str, Any], request_id: str | None) -> dict[str, Any]:
    """What to send instead of a message that cannot be encoded (a number past 64 bits, say):
    the same message, its payload an INTERNAL_SERVER_ERROR, so the operation still gets
    its answer in either protocol. The failure is logged here, once."""
    logger.error(
        "unsendable %s message (request %s)", message.get("type"), request_id, exc_info=True
    )
    error = internal_error(request_id)
    replacement = {key: value for key, value in message.items() if key != "payload"}
    payload = message.get("payload")
    if message.get("type") in ("next", "data"):  # a result
        replacement["payload"] = {"data": None, "errors": [error]}
    elif isinstance(payload, list):  # graphql-transport-ws `error`: a list of errors
        replacement["payload"] = [error]
    elif payload is not None:  # legacy `error` and `connection_error`: one error
        replacement["payload"] = error
    return replacement


def with_codes(errors: list[Any]) -> list[Any]:
    """Errors Strawberry's handlers write themselves ("Subscription limit reached") get a code."""
    for error in errors:
        if isinstance(error, dict):
            error.setdefault("extensions", {}).setdefault("code", BAD_REQUEST)
    return errors


def _is_optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def names_persisted_document(payload: dict[str, Any]) -> bool:
    return payload.get("documentId") is not None or "persistedQuery" in (
        payload.get("extensions") or {}
    )


def valid_operation_payload(payload: object) -> bool:
    if not (
        isinstance(payload, dict)
        and _is_optional(payload.get("variables"), dict)
        and _is_optional(payload.get("operationName"), str)
        and _is_optional(payload.get("extensions"), dict)
        and _is_optional(payload.get("documentId"), str)
    ):
        return False
    query = payload.get("query")
    return isinstance(query, str) or (query is None and names_persisted_document(payload))


async def resolve_operation(view: object, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Put the text of the document the payload names into its `query`; or the error to
    answer instead. An APQ registration is kept at once: its hash was just checked."""
    persisted: PersistedDocuments | None = getattr(view, "persisted", None)
    if persisted is None:
        if isinstance(payload.get("query"), str):
            return None
        return {"message": "The query parameter is missing.", "extensions": {"code": BAD_REQUEST}}
    try:
        resolved = await persisted.resolve(
            payload.get("query"), payload.get("extensions"), payload.get("documentId")
        )
    except PersistedDocumentError as error:
        return error.formatted()
    await persisted.register(resolved)
    payload["query"] = resolved.query
    return None


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
        # Before the acknowledgement Strawberry closes the socket (4401) without reading it.
        if message["type"] == "subscribe" and self.connection_acknowledged:
            error = await resolve_operation(self.view, message["payload"])
            if error is not None:
                reply = {"id": message["id"], "type": "error", "payload": [error]}
                await self.send_message(cast(Any, reply))
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
        if message["type"] == "start":
            refusal = await resolve_operation(self.view, message["payload"])
            if refusal is not None:
                reply = {"type": "error", "id": message["id"], "payload": refusal}
                await self.send_message(cast(Any, reply))
                return
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "error":
            with_codes([message["payload"]])
        await super().send_message(message)
