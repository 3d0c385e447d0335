"""Tells the access log and the metrics which GraphQL operation ran and how it failed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from blog_graphql.errors import INTERNAL_SERVER_ERROR, DomainError
from blog_graphql.observability import metrics, request_info
from blog_graphql.observability.request_info import RequestInfo

# graphql-core's own errors (syntax, validation, variable coercion) carry no code.
INVALID_OPERATION = "GRAPHQL_VALIDATION_FAILED"


def error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return INVALID_OPERATION
    return original.code if isinstance(original, DomainError) else INTERNAL_SERVER_ERROR


def record_errors(info: RequestInfo | None, codes: Iterable[str]) -> None:
    """Count errors sent to a client, and name them in the request's log line."""
    codes = list(codes)
    metrics.count_errors(codes)
    if info is not None:
        info.error_codes.extend(codes)


def request_info_of(execution_context: ExecutionContext) -> RequestInfo | None:
    request = getattr(execution_context.context, "request", None)
    return request_info.of(request.scope) if request is not None else None


def subscription_field(execution_context: ExecutionContext) -> str:
    document = execution_context.graphql_document
    for definition in document.definitions if document else ():
        if isinstance(definition, OperationDefinitionNode) and definition.selection_set:
            first = definition.selection_set.selections[0]
            return getattr(getattr(first, "name", None), "value", "unknown")
    return "unknown"


class ObserveOperations(SchemaExtension):
    """One instance per operation (HTTP request, or one operation on a WebSocket)."""

    subscription: str | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if (info := request_info_of(context)) is not None:
            info.operation = context.operation_name
            info.operation_type = context.operation_type.value
        if context.operation_type is OperationType.SUBSCRIPTION:
            self.subscription = subscription_field(context)
            metrics.SUBSCRIPTIONS_ACTIVE.labels(self.subscription).inc()
        yield

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._finish()

    def _finish(self) -> None:
        context = self.execution_context
        info = request_info_of(context)
        if info is not None:
            info.operation = context.operation_name
        errors = getattr(context.result, "errors", None) or context.pre_execution_errors or []
        record_errors(info, (error_code(error) for error in errors))
        if self.subscription is not None:  # a subscription's operation spans its whole life
            metrics.SUBSCRIPTIONS_ACTIVE.labels(self.subscription).dec()
