"""The schema extensions that guard every operation, on HTTP and WebSocket alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from blog_graphql.config.settings import Settings, load_settings
from blog_graphql.engine.document_cache import CacheDocuments, DocumentCache
from blog_graphql.engine.schema import engine_schema
from blog_graphql.errors import MaskUnexpectedErrors
from blog_graphql.guards.control_characters import RefuseControlCharacters
from blog_graphql.guards.query_limits import MeasureCache, QueryLimiter, QueryLimits
from blog_graphql.guards.ratelimit import RateLimit, RateLimiter
from blog_graphql.observability.wiring import schema_extensions

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


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
    return engine_schema(
        fast_execution=fast_execution and settings.fast_engine,
        **types,
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
