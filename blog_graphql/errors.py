"""Domain exceptions and the one place that turns failures into contract error codes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import GraphQLError, VariableDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

logger = logging.getLogger("blog_graphql.errors")

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error."
# Apollo's names for a document that does not parse or does not validate.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
# A request that is not a GraphQL request at all (malformed body, no operation to run).
BAD_REQUEST = "BAD_REQUEST"
# Apollo's code and message for a persisted document the server does not know: clients
# that see them resend the request with its query.
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
# "Did you mean ...?" hints that describe the schema to someone probing it.
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
# The largest integer every JSON reader (JavaScript's numbers) holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1
REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class DomainError(Exception):
    """An expected failure; `code` is the contract's `extensions.code`."""

    code: ClassVar[str] = INTERNAL_SERVER_ERROR
    default_message: ClassVar[str] = "Request failed."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extra = extensions

    @property
    def extensions(self) -> dict[str, Any]:
        """graphql-core copies this onto the GraphQLError it builds around us."""
        return {"code": self.code, **self.extra}

    def as_graphql_error(self) -> GraphQLError:
        """For failures raised outside a resolver (before execution)."""
        return GraphQLError(self.message, original_error=self)


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required."


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Not found."


class InvalidInput(DomainError):
    """Validation failed; `fields` maps each bad input field to a message."""

    code = BAD_USER_INPUT
    default_message = "Invalid input."

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message, fields=fields)
        self.fields = fields


class Conflict(DomainError):
    code = "CONFLICT"
    default_message = "Already taken."

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message, fields=fields)
        self.fields = fields


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts; try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retryAfter=max(1, int(retry_after)))
        self.retry_after = max(1, int(retry_after))


class QueryTooComplex(DomainError):
    """A query limit (API.md) was exceeded: `rule` names it, with its `limit` and `measured`."""

    code = "QUERY_TOO_COMPLEX"
    default_message = "Query is too complex."

    def __init__(self, rule: str, limit: int, measured: int) -> None:
        # A fragment bomb measures past 2^64, which JSON encoders refuse and JavaScript
        # cannot hold: past 2^53 the answer says "over" the largest number it can.
        over = measured > MAX_SAFE_INTEGER
        measured = min(measured, MAX_SAFE_INTEGER)
        super().__init__(
            f"Query is too complex: {rule} is {'over ' if over else ''}{measured:,}, "
            f"the limit is {limit:,}.",
            rule=rule,
            limit=limit,
            measured=measured,
        )


def is_expected(error: GraphQLError) -> bool:
    """Domain errors and graphql-core's own (parse, validation, coercion) are shown as-is."""
    original = error.original_error
    return original is None or isinstance(original, DomainError | GraphQLError)


def mask(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """Replace an unexpected failure by a code-only error; log the real one."""
    logger.error(
        "unexpected error at %s (request %s)",
        error.path,
        request_id,
        exc_info=(type(error.original_error), error.original_error, error.__traceback__)
        if error.original_error
        else None,
    )
    extensions = internal_error(request_id)["extensions"]
    return GraphQLError(INTERNAL_MESSAGE, nodes=error.nodes, path=error.path, extensions=extensions)


def internal_error(request_id: str | None) -> dict[str, Any]:
    """An unexpected failure as the client sees it: the code and the request id, no more."""
    extensions: dict[str, Any] = {"code": INTERNAL_SERVER_ERROR}
    if request_id:
        extensions["requestId"] = request_id
    return {"message": INTERNAL_MESSAGE, "extensions": extensions}


def with_contract_code(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """The error as the client sees it: always with a contract code, never a leak."""
    if (error.extensions or {}).get("code") and is_expected(error):
        return error
    original = error.original_error
    if isinstance(original, CannotGetOperationTypeError):
        return GraphQLError(operation_not_found(original), extensions={"code": BAD_REQUEST})
    if isinstance(original, REQUEST_ERRORS):
        return GraphQLError(error.message, extensions={"code": BAD_REQUEST})
    if not error.path and isinstance(error.original_error, GraphQLError | None):
        return bad_variable(error)
    return mask(error, request_id)


class SeveralOperations(RuntimeError):
    """A document of several operations sent without `operationName`: the engine raises it
    while choosing the operation, Strawberry wraps it in CannotGetOperationTypeError, and
    it is answered as a BAD_REQUEST."""

    def __init__(self) -> None:
        super().__init__("The document has several operations: name one in operationName.")


def operation_not_found(error: CannotGetOperationTypeError) -> str:
    """Why no operation of the document could be chosen, in the client's terms."""
    if isinstance(error.__cause__, SeveralOperations):
        return str(error.__cause__)
    return error.as_http_error_reason()


def bad_variable(error: GraphQLError) -> GraphQLError:
    """graphql-core reports bad variable values before execution, without a path."""
    extensions: dict[str, Any] = {"code": BAD_USER_INPUT}
    definition = error.nodes[0] if error.nodes else None
    if isinstance(definition, VariableDefinitionNode):
        extensions["fields"] = {definition.variable.name.value: error.message}
    return GraphQLError(error.message, nodes=error.nodes, extensions=extensions)


def mask_errors(errors: list[GraphQLError], request_id: str | None = None) -> list[GraphQLError]:
    return [with_contract_code(error, request_id) for error in errors]


def tag_errors(errors: list[GraphQLError] | None, code: str, suggestions: bool) -> None:
    """Give parse or validation errors their code in place (Strawberry keeps these objects)."""
    for error in errors or ():
        if not suggestions:
            error.message = SUGGESTION.sub("", error.message)
        extensions = error.extensions or {}
        if "code" not in extensions:
            error.extensions = {**extensions, "code": code}


class MaskUnexpectedErrors(SchemaExtension):
    """Every error leaves with a contract code; unexpected exceptions never reach the client.

    Parse and validation errors get `GRAPHQL_PARSE_FAILED` / `GRAPHQL_VALIDATION_FAILED`
    (Apollo's names), bad variable values `BAD_USER_INPUT`, anything else unexpected
    `INTERNAL_SERVER_ERROR` with the request id, logged with its stack trace.
    """

    def __init__(self, *, suggestions: bool = True) -> None:
        self.suggestions = suggestions

    def on_parse(self) -> Iterator[None]:
        yield
        tag_errors(self.execution_context.pre_execution_errors, PARSE_FAILED, self.suggestions)

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        tag_errors(errors, VALIDATION_FAILED, self.suggestions)

    def on_operation(self) -> Iterator[None]:
        yield
        self._finish(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._finish(result)  # before a streaming transport (WebSocket) sends it
        yield

    def _finish(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            request_id = getattr(self.execution_context.context, "request_id", None)
            result.errors = mask_errors(errors, request_id)
