"""Live servers of the test app (real uvicorn subprocesses) and their environment."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_REDIS_URL
from tests.live_server import LiveServer, clean_environment, live_server

REPO = Path(__file__).resolve().parents[2]
TEST_APP = ("-m", "tests.live.serve")

ServerFactory = Callable[..., AbstractContextManager[LiveServer]]


@pytest.fixture
def channel_prefix() -> str:
    """Redis channels are shared by every database index: one prefix per test."""
    return f"test-live-{uuid.uuid4().hex}:"


@pytest.fixture
def redis_url() -> str:
    """The shared test Redis (tests using it are marked `requires_redis`)."""
    assert TEST_REDIS_URL, "mark the test requires_redis"
    return TEST_REDIS_URL


@pytest.fixture
def live_env(database_url: str, channel_prefix: str) -> dict[str, str]:
    return clean_environment(
        DATABASE_URL=database_url,
        PUBSUB_PREFIX=channel_prefix,
        WS_SESSION_CHECK_SECONDS="0.5",
    )


@pytest.fixture
def serve(live_env: dict[str, str]) -> ServerFactory:
    """Start the test app with `live_env` plus overrides, as a context manager."""

    @contextmanager
    def start(**overrides: str) -> Iterator[LiveServer]:
        with live_server({**live_env, **overrides}, cwd=REPO, command=TEST_APP) as server:
            yield server

    return start


def publish(server: LiveServer, channel: str, text: str, **options: object) -> int:
    """Publish through the server's test mutation; how many events it sent."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation($c: String!, $t: String!, $n: Int!, $x: Int!, $r: Boolean!) "
            "{ echo(channel: $c, text: $t, count: $n, repeat: $x, rollback: $r) }",
            "variables": {
                "c": channel,
                "t": text,
                "n": options.get("count", 1),
                "x": options.get("repeat", 1),
                "r": options.get("rollback", False),
            },
        },
        timeout=60,
    )
    body = response.json()
    assert "errors" not in body, body
    sent: int = body["data"]["echo"]
    return sent


def graphql_over_http(
    server: LiveServer, query: str, authorization: str, **variables: object
) -> dict[str, Any]:
    """A real mutation on the live server, as the signed-in user of `authorization`."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": authorization},
        timeout=60,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body
