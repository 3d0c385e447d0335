"""`/readyz` says which service is down while it is, and recovers by itself when it is back.

PostgreSQL and Redis are reached through TCP proxies the test takes down and brings back.
"""

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from blog_graphql.app import create_app
from blog_graphql.state import AppState
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, requires_postgres, requires_redis
from tests.tcp_proxy import TcpProxy, tcp_proxy
from tests.waiting import eventually

pytestmark = [requires_postgres, requires_redis]


@pytest.fixture
async def proxied(settings, db) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy, TcpProxy]]:
    assert TEST_DATABASE_URL and TEST_REDIS_URL
    pg, rd = urlsplit(TEST_DATABASE_URL), urlsplit(TEST_REDIS_URL)
    with (
        tcp_proxy(pg.hostname or "", pg.port or 5432) as database,
        tcp_proxy(rd.hostname or "", rd.port or 6379) as redis,
    ):
        state = AppState.create(
            settings.model_copy(
                update={
                    "database_url": database.url(TEST_DATABASE_URL),
                    "redis_url": redis.url(TEST_REDIS_URL),
                }
            )
        )
        transport = httpx.ASGITransport(app=create_app(state=state))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client, database, redis
        finally:
            await state.close()


async def readiness(client: httpx.AsyncClient) -> tuple[int, object]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def recovers(client: httpx.AsyncClient) -> bool:
    """Ready again without anyone's help (a stale pooled connection may fail one probe)."""

    async def ready() -> bool:
        return (await readiness(client))[0] == 200

    return bool(await eventually(ready, interval=0.1, what="readiness after the outage"))


async def test_readyz_names_the_database_while_it_is_down_and_recovers(proxied):
    client, database, _ = proxied
    assert await readiness(client) == (200, {"status": "ok"})

    database.down()
    assert await readiness(client) == (503, {"status": "unavailable", "down": ["database"]})
    assert (await client.get("/healthz")).status_code == 200  # the process itself is fine

    database.up()
    assert await recovers(client)


async def test_readyz_names_redis_while_it_is_down_and_the_api_keeps_answering(proxied):
    client, _, redis = proxied
    assert await readiness(client) == (200, {"status": "ok"})

    redis.down()
    down = {"status": "unavailable", "down": ["redis"], "degraded": ["rate_limits"]}
    assert await readiness(client) == (503, down)
    answer = await client.post("/graphql", json={"query": "{ tags { name } }"})
    assert answer.json() == {"data": {"tags": []}}  # rate limits count in memory; reads go on

    redis.up()
    assert await recovers(client)
