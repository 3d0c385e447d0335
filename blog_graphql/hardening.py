"""The schema extensions that guard every operation, on HTTP and WebSocket alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, MiddlewareManager
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from blog_graphql.config import Settings, load_settings
from blog_graphql.document_cache import CacheDocuments, DocumentCache
from blog_graphql.errors import MaskUnexpectedErrors
from blog_graphql.execution import FastExecutionContext
from blog_graphql.extension_hooks import PlannedHooksRunner, any_resolves
from blog_graphql.guards.control_characters import RefuseControlCharacters
from blog_graphql.observability import schema_extensions
from blog_graphql.operation_context import OperationContext
from blog_graphql.query_limits import MeasureCache, QueryLimiter, QueryLimits
from blog_graphql.ratelimit import RateLimit, RateLimiter

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]
NO_MIDDLEWARE = MiddlewareManager()


class QuietSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: `errors.mask` logs unexpected failures once, with the request id.

        Strawberry would log every error at ERROR level, a client's typo or a token flood
        (with an excerpt of it) included.
        """

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> PlannedHooksRunner:
        return PlannedHooksRunner(execution_context=execution_context, extensions=extensions)

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

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        """Strawberry's, but with no extension resolving fields (tracing off) one empty
        manager serves every operation: it keeps nothing per operation then."""
        if not any_resolves(tuple(map(type, extensions))):
            return NO_MIDDLEWARE
        return super()._get_middleware_manager(extensions)


def hardened_schema(
    settings: Settings | None,
    rate_limiter: RateLimiter | None,
    *,
    fast_execution: bool = True,
    **types: Any,
) -> strawberry.Schema:
    """A schema over `types` (query=..., mutation=...) with every guard `settings` ask for.

    `fast_execution=False` runs graphql-core's standard executor (tests compare the two).
    """
    settings = settings or load_settings(_env_file=None)
    suggestions = settings.field_suggestions_enabled
    return QuietSchema(
        **types,
        execution_context_class=FastExecutionContext if fast_execution else None,
        # Observation comes last, so it sees the errors as the guards leave them.
        extensions=[*hardening_extensions(settings, rate_limiter), *schema_extensions()],
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )


def hardening_extensions(
    settings: Settings, rate_limiter: RateLimiter | None
) -> list[ExtensionFactory]:
    """In hook order: error codes see everything, budgets are spent before limits are measured.

    Strawberry builds each extension anew for every operation from these factories.
    """
    extensions: list[ExtensionFactory] = [
        partial(MaskUnexpectedErrors, suggestions=settings.field_suggestions_enabled)
    ]
    if rate_limiter is not None and settings.rate_limit_enabled:
        extensions.append(partial(RateLimit, limiter=rate_limiter))
    limits = QueryLimits.from_settings(settings)
    extensions.append(partial(QueryLimiter, limits=limits, measures=MeasureCache()))
    extensions.append(RefuseControlCharacters)
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    # Last: it reuses what the guards above let through, and never skips one of them.
    extensions.append(partial(CacheDocuments, cache=DocumentCache()))
    return extensions
