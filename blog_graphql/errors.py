"""Domain exceptions and the one place that turns failures into contract error codes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

logger = logging.getLogger("blog_graphql.errors")

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error."


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

    code = "BAD_USER_INPUT"
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
    code = "QUERY_TOO_COMPLEX"
    default_message = "Query is too complex."


def is_expected(error: GraphQLError) -> bool:
    """Domain errors and graphql-core's own (parse, validation, coercion) are shown as-is."""
    original = error.original_error
    return original is None or isinstance(original, DomainError | GraphQLError)


def mask(error: GraphQLError) -> GraphQLError:
    """Replace an unexpected failure by a code-only error; log the real one."""
    logger.error(
        "unexpected error at %s",
        error.path,
        exc_info=(type(error.original_error), error.original_error, error.__traceback__)
        if error.original_error
        else None,
    )
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR},
    )


def mask_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [error if is_expected(error) else mask(error) for error in errors]


class MaskUnexpectedErrors(SchemaExtension):
    """Once per operation: unexpected exceptions never reach the client."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = mask_errors(errors)  # type: ignore[union-attr]
