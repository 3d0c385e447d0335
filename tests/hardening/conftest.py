"""Fixtures for the hardening tests: apps built from settings a test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from blog_graphql.app import create_app
from blog_graphql.config.settings import load_settings
from blog_graphql.db.database import Database
from blog_graphql.guards.ratelimit import RateLimiter
from blog_graphql.state import AppState

ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_with(db: Database, database_url: str) -> AsyncIterator[ClientFactory]:
    """`client_with(environment="production", ...)`: a client of an app with those settings.

    `key_prefix` keeps a test's Redis budgets apart from every other run's.
    """
    limiters: list[RateLimiter] = []

    def make(
        base_url: str = "http://testserver", key_prefix: str | None = None, **values: Any
    ) -> httpx.AsyncClient:
        settings = load_settings(database_url=database_url, _env_file=None, **values)
        state = AppState(settings=settings, db=db)
        if key_prefix:
            state.rate_limiter = RateLimiter.from_settings(settings, key_prefix=key_prefix)
        limiters.append(state.rate_limiter)
        transport = httpx.ASGITransport(app=create_app(state=state))
        return httpx.AsyncClient(transport=transport, base_url=base_url)

    yield make
    for limiter in limiters:
        await limiter.close()
