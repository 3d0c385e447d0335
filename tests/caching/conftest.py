"""Fixtures for the caching tests: app instances over one database, with or without Redis.

`instances(n)` builds `n` apps with the response cache on, plus `reference`, an app with it
off, whose answers are the truth. With TEST_REDIS_URL each instance has its own database
pool and they share Redis (a unique prefix per test), as separate servers do; without
it they share one `Database`, as the apps of one process would (several instances need
Redis: `serve --workers 2` refuses to start without it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from blog_graphql.app import create_app
from blog_graphql.config.settings import load_settings
from blog_graphql.db.database import Database
from blog_graphql.http.response_cache import ResponseCache
from blog_graphql.http.view import BlogGraphQL
from blog_graphql.state import AppState
from tests.conftest import TEST_REDIS_URL
from tests.waiting import eventually


@dataclass
class Instance:
    client: httpx.AsyncClient
    state: AppState
    cache: ResponseCache | None

    async def post(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = {"query": query, "variables": variables or {}}
        return await self.client.post("/graphql", json=body, **kw)

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        return response.json()


Factory = Callable[..., Instance]


@pytest.fixture
async def make_instance(db: Database, database_url: str) -> AsyncIterator[Factory]:
    prefix = f"test-cache-{uuid.uuid4().hex[:12]}:"
    made: list[tuple[Instance, bool]] = []

    def make(*, redis: bool = bool(TEST_REDIS_URL), **values: Any) -> Instance:
        values.setdefault("rate_limit_enabled", False)
        if redis:
            values.setdefault("redis_url", TEST_REDIS_URL)
            values.setdefault("pubsub_prefix", prefix)
        else:
            values["redis_url"] = None
        settings = load_settings(database_url=database_url, _env_file=None, **values)
        own_db = redis and values["redis_url"] is not None
        state = AppState(settings=settings, db=Database.from_url(database_url) if own_db else db)
        app = create_app(state=state)
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        graphql_app = next(
            r.app for r in app.routes if isinstance(r, Route) and r.path == "/graphql"
        )
        assert isinstance(graphql_app, BlogGraphQL)
        instance = Instance(client, state, graphql_app.response_cache)
        made.append((instance, own_db))
        return instance

    yield make
    for instance, own_db in made:
        await instance.client.aclose()
        await instance.state.close() if own_db else await _close_keeping_db(instance.state)


async def _close_keeping_db(state: AppState) -> None:
    for close in state.closing:
        await close()
    await state.live.close()
    await state.rate_limiter.close()


async def listening(instance: Instance) -> Instance:
    """Wait until the instance hears invalidations (at once without Redis)."""
    cache = instance.cache
    if cache is not None and cache.channel is not None:
        await instance.post("{ __typename }")  # the channel starts on first use
        await eventually(lambda: cache.channel is not None and cache.channel.listening)
    return instance
