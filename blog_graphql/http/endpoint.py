"""The GraphQL-over-HTTP endpoint: one operation per request, answered with the spec's codes.

With `application/graphql-response+json` a request error (no `data`: the document does not
parse or validate, a variable is bad, a limit is hit) is HTTP 400; with `application/json`
it stays 200, as older clients expect. Either way a request error carries no `data` key.
A persisted document the server does not know is answered 200 whatever the media type:
Apollo clients turn persisted queries off for good after a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from blog_graphql.db.table_tags import recording_reads
from blog_graphql.errors import BAD_REQUEST, INTERNAL_SERVER_ERROR, RateLimited, operation_not_found
from blog_graphql.http.cached_queries import NOT_CACHED, CachedQueries
from blog_graphql.http.persisted import PersistedDocumentError, PersistedDocuments, Resolved
from blog_graphql.http.protocol import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    GraphQLParams,
    RequestRefused,
    negotiate,
    read_params,
    wants_html,
)
from blog_graphql.http.uploads import is_multipart, read_multipart
from blog_graphql.observability import request_info
from blog_graphql.observability.operation_observer import record_errors

ContextFactory = Callable[[Request], Awaitable[Any]]
PageRenderer = Callable[[Request], Response]
RATE_LIMITED = RateLimited.code


class GraphQLEndpoint:
    """Reads the request strictly, runs the operation, answers with the right status."""

    def __init__(
        self,
        schema: BaseSchema,
        get_context: ContextFactory,
        graphiql: PageRenderer | None,
        persisted: PersistedDocuments,
        cached: CachedQueries,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.schema = schema
        self.get_context = get_context
        self.graphiql = graphiql
        self.persisted = persisted
        self.cached = cached
        self.max_upload_bytes = max_upload_bytes  # None: no multipart uploads

    async def __call__(self, request: Request) -> Response:
        if self.graphiql and wants_html(request) and not names_document(request):
            return self.graphiql(request)
        media = JSON
        params: GraphQLParams | None = None
        try:
            media = negotiate(request.headers.get("accept"))
            params = await self.read(request)
            return await self.answer(request, params, media)
        except RequestRefused as refusal:
            record_errors(request_info.of(request.scope), [BAD_REQUEST])
            return refusal_response(refusal, media)
        finally:
            for file in params.files if params is not None else ():
                await file.close()  # an upload's temporary file

    async def read(self, request: Request) -> GraphQLParams:
        if self.max_upload_bytes is not None and request.method == "POST" and is_multipart(request):
            return await read_multipart(request, self.max_upload_bytes)
        return await read_params(request)

    async def answer(self, request: Request, params: GraphQLParams, media: str) -> Response:
        try:
            document = await self.persisted_document(params)
            if params.files:  # never an anonymous query's cached answer: it has uploads
                lookup = NOT_CACHED
            else:
                lookup = await self.cached.lookup(request, params, document.query, media)
            if lookup.response is not None:
                return lookup.response  # from the response cache: nothing executes
            with recording_reads() as tables:
                result = await self.execute(request, params, document.query)
        except PersistedDocumentError as error:
            record_errors(request_info.of(request.scope), [error.code])
            return _json_response({"errors": [error.formatted()]}, 200, media)
        if not is_request_error(result):
            await self.persisted.register(document)
        response = result_response(result, media)
        if not result.errors and not result.extensions:
            return await self.cached.answered(request, lookup, response, frozenset(tables))
        return response

    async def persisted_document(self, params: GraphQLParams) -> Resolved:
        try:
            return await self.persisted.resolve(params.query, params.extensions, params.document_id)
        except PersistedDocumentError as error:
            if error.code == BAD_REQUEST:
                raise RequestRefused(400, error.message) from None
            raise

    async def execute(self, request: Request, params: GraphQLParams, query: str) -> ExecutionResult:
        allowed = {OperationType.QUERY}
        if request.method == "POST":
            allowed.add(OperationType.MUTATION)
        try:
            return await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=await self.get_context(request),
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            raise wrong_operation_type(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise RequestRefused(400, operation_not_found(error)) from None
        except MissingQueryError:
            raise RequestRefused(400, "The query parameter is missing.") from None


def names_document(request: Request) -> bool:
    """A GET naming its document, by text or persisted, is answered even for a browser."""
    return any(name in request.query_params for name in ("query", "documentId", "extensions"))


def no_store_if_private(request: Request, response: Response) -> Response:
    """`Cache-Control: no-store` on what no cache may keep (API.md, RFC 6749 5.1): answers
    to a request with `Authorization` (tokens, a user's own data), and to mutations (a
    POST not known to have run as a query: login and refresh hand out tokens)."""
    info = request_info.of(request.scope)
    ran_as_query = info is not None and info.operation_type == OperationType.QUERY.value
    if "authorization" in request.headers or (request.method == "POST" and not ran_as_query):
        response.headers["Cache-Control"] = "no-store"
    return response


def wrong_operation_type(operation_type: OperationType) -> RequestRefused:
    if operation_type == OperationType.MUTATION:
        # GET must stay safe: a link or an <img> must never change anything.
        return RequestRefused(405, "Mutations need POST.", headers={"Allow": "POST"})
    return RequestRefused(
        400, "Subscriptions are served over WebSocket, or streamed: Accept: text/event-stream."
    )


def _json_response(
    body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=headers,
    )


def refusal_response(refusal: RequestRefused, media: str) -> Response:
    error = {"message": refusal.message, "extensions": {"code": BAD_REQUEST}}
    return _json_response({"errors": [error]}, refusal.status, media, refusal.headers)


def is_request_error(result: ExecutionResult) -> bool:
    # Errors before execution have no path: then the GraphQL spec says no `data` entry.
    return result.data is None and not any(error.path for error in result.errors or [])


def result_response(result: ExecutionResult, media: str) -> Response:
    errors = result.errors or []
    request_error = is_request_error(result)
    body: dict[str, Any] = {} if request_error else {"data": result.data}
    if errors:
        body["errors"] = [error.formatted for error in errors]
    if result.extensions:
        body["extensions"] = result.extensions
    status = request_error_status(errors, media) if request_error else 200
    return _json_response(body, status, media, retry_after(errors))


def request_error_status(errors: list[GraphQLError], media: str) -> int:
    codes = {(error.extensions or {}).get("code") for error in errors}
    if RATE_LIMITED in codes:
        return 429
    if INTERNAL_SERVER_ERROR in codes:
        return 500
    return 400 if media == GRAPHQL_RESPONSE_JSON else 200


def retry_after(errors: list[GraphQLError]) -> dict[str, str]:
    extensions = [error.extensions or {} for error in errors]
    waits = [int(ext.get("retryAfter", 1)) for ext in extensions if ext.get("code") == RATE_LIMITED]
    return {"Retry-After": str(max(waits))} if waits else {}
