"""The Starlette application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from blog_graphql.config.settings import Settings, get_settings
from blog_graphql.http.access_log import AccessLogMiddleware
from blog_graphql.http.feeds import feed_routes
from blog_graphql.http.graphiql import GraphiQLPage, graphiql_assets
from blog_graphql.http.health import healthz, index, readyz
from blog_graphql.http.mailbox import mailbox_routes
from blog_graphql.http.media_files import media_routes
from blog_graphql.http.metrics_endpoint import metrics_endpoint
from blog_graphql.http.middleware import http_middleware
from blog_graphql.http.shutdown import DrainWebSockets
from blog_graphql.http.unsubscribe import unsubscribe_routes
from blog_graphql.http.view import BlogGraphQL
from blog_graphql.jobs import broker as jobs
from blog_graphql.notifications import delivery
from blog_graphql.observability import wiring as observability
from blog_graphql.posts.scheduling import scheduler_running
from blog_graphql.schema import build_schema
from blog_graphql.state import AppState


def create_app(
    settings: Settings | None = None,
    state: AppState | None = None,
    schema: strawberry.Schema | None = None,
) -> Starlette:
    """Build the app; tests pass a `state` whose database they control (or a `schema`)."""
    state = state or AppState.create(settings or get_settings())
    settings = state.settings
    jobs.configure(settings)
    observability.instrument_database(state.db)
    graphiql = GraphiQLPage() if settings.graphiql_enabled else None
    graphql = BlogGraphQL(
        state,
        schema=schema or build_schema(settings, state.rate_limiter),
        graphiql=graphiql,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout_seconds),
        allowed_origins=settings.cors_origins,
        allowed_origin_pattern=settings.cors_origin_pattern,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        delivery.install(settings, state.live)
        try:
            async with (
                jobs.in_process_jobs(settings),
                scheduler_running(state.db, settings, state.post_feed),
            ):
                yield
        finally:
            delivery.uninstall(state.live)
        await state.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *unsubscribe_routes(),
            *feed_routes(state, graphql.response_cache),
            *media_routes(),
            *([graphiql_assets()] if graphiql else []),
            *([] if settings.is_production else mailbox_routes()),
        ],
        # The access log is outermost: it times and logs refusals (413, bad Host) too.
        middleware=[
            Middleware(AccessLogMiddleware),
            *http_middleware(settings),
            Middleware(DrainWebSockets),
        ],
        lifespan=lifespan,
    )
    app.state.blog = state
    return app
