"""Where the engine plugs into Strawberry: the schema class, fast or stock.

`engine_schema()` builds a Strawberry schema whose operations run on the fast executor
(`execution.py`, `planned_execution.py`), with extension hooks planned once
(`extension_hooks.py`) and the operation's name and type worked out once
(`operation_context.py`). When `_compat.missing_seams()` finds that an installed library
moved one of the internals these rely on, it logs one warning, sets the
`blog_graphql_engine_fast_path` gauge to 0, and builds the stock Strawberry schema instead:
every answer stays the same, only slower, but for one: with the operation-choice hook gone
too, a document of several operations sent without `operationName` runs its first
operation (Strawberry's behaviour) instead of being refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError, MiddlewareManager
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from blog_graphql.engine._compat import core_schema as core_schema  # for the guards
from blog_graphql.engine._compat import missing_seams
from blog_graphql.engine.execution import FastExecutionContext
from blog_graphql.engine.extension_hooks import PlannedHooksRunner, any_resolves
from blog_graphql.engine.metrics import ENGINE_FAST_PATH
from blog_graphql.engine.operation_context import OperationContext

logger = logging.getLogger("blog_graphql.engine")
NO_MIDDLEWARE = MiddlewareManager()


class QuietSchema(strawberry.Schema):
    """Strawberry's schema, leaving the logging of errors to `errors.mask`."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: `errors.mask` logs unexpected failures once, with the request id.

        Strawberry would log every error at ERROR level, a client's typo or a token flood
        (with an excerpt of it) included.
        """


class SpecSchema(QuietSchema):
    """Strawberry's schema, choosing the operation as the GraphQL spec says: a document of
    several operations needs `operationName` (Strawberry would run the first). Its one
    private hook is checked in `_compat.SCHEMA_HOOKS`; graphql-core's stock executor runs."""

    def _create_execution_context(
        self,
        query: str | None,
        allowed_operation_types: Iterable[OperationType],
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionContext:
        """Strawberry's, of a class that works out the operation's name and type once."""
        return OperationContext(
            query=query,
            schema=self,
            allowed_operations=allowed_operation_types,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            provided_operation_name=operation_name,
            operation_extensions=operation_extensions,
        )


class EngineSchema(SpecSchema):
    """The schema on the fast engine: two more of Strawberry's hooks overridden."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> PlannedHooksRunner:
        return PlannedHooksRunner(execution_context=execution_context, extensions=extensions)

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        """Strawberry's, but with no extension resolving fields (tracing off) one empty
        manager serves every operation: it keeps nothing per operation then."""
        if not any_resolves(tuple(map(type, extensions))):
            return NO_MIDDLEWARE
        return super()._get_middleware_manager(extensions)


def engine_schema(*, fast_execution: bool = True, **options: Any) -> strawberry.Schema:
    """A Strawberry schema of `options` (query=..., extensions=..., config=...).

    On the fast engine when `fast_execution` and the seams hold; on graphql-core's stock
    executor otherwise, still choosing operations by the spec while the seams hold.
    """
    if not fast_path_available():
        return QuietSchema(**options)
    if fast_execution:
        return EngineSchema(**options, execution_context_class=FastExecutionContext)
    return SpecSchema(**options)


@cache
def fast_path_available() -> bool:
    """Whether the installed libraries still have every seam; warns once when not."""
    problems = missing_seams()
    if problems:
        logger.warning(
            "fast GraphQL engine off, serving on Strawberry's stock executor: %s",
            "; ".join(problems),
        )
    ENGINE_FAST_PATH.set(0 if problems else 1)
    return not problems
