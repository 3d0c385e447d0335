"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from blog_graphql.http import shutdown
from blog_graphql.state import AppState

logger = logging.getLogger("blog_graphql.health")
PROBE_TIMEOUT_SECONDS = 2.0


async def index(_request: Request) -> JSONResponse:
    """`GET /`: where things are, for whoever opens the server's address."""
    return JSONResponse(
        {
            "service": "blog_graphql",
            "graphql": "/graphql",
            "graphiql": "/graphql (open it in a browser, outside production)",
            "health": "/healthz",
            "readiness": "/readyz",
        }
    )


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    if shutdown.is_draining(request.app):
        return JSONResponse({"status": "draining"}, status_code=503)
    state: AppState = request.app.state.blog
    checks: dict[str, Awaitable[object]] = {"database": state.db.ping()}
    if state.rate_limiter.pool is not None:  # REDIS_URL is set
        checks["redis"] = Redis(connection_pool=state.rate_limiter.pool).ping()
    results = await asyncio.gather(*(_probe(name, check) for name, check in checks.items()))
    down = [name for name, healthy in zip(checks, results, strict=True) if not healthy]
    degraded = _degraded(state, redis_down="redis" in down)
    extra = {"degraded": degraded} if degraded else {}
    if down:
        return JSONResponse({"status": "unavailable", "down": down, **extra}, status_code=503)
    return JSONResponse({"status": "ok", **extra})


def _degraded(state: AppState, *, redis_down: bool) -> list[str]:
    """What works in a lesser way: without Redis, rate limits count per instance."""
    limiter = state.rate_limiter
    if limiter.pool is not None and not redis_down:
        limiter.retry_store_now()  # Redis answered: the limits go back to it
    return ["rate_limits"] if redis_down or limiter.degraded else []


async def _probe(name: str, check: Awaitable[object]) -> bool:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness: %s is down: %s", name, type(error).__name__)
        return False
    return True
