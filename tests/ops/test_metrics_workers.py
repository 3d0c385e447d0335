"""`serve --workers 2`: every scrape, whichever worker answers it, reports all workers' work."""

import json
import time
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.typing import Subprotocol

from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.live_server import clean_environment, live_server

TOKEN = "metrics-token-0123456789"
REQUESTS = 40
MAX_REQUESTS = 400  # a worker still starting takes none at first
SCRAPES = 8


pytestmark = requires_redis  # several workers share jobs and pub/sub through Redis


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("workers")
    env = clean_environment(METRICS_TOKEN=TOKEN, LOG_FORMAT="json", REDIS_URL=TEST_REDIS_URL or "")
    with live_server(env=env, cwd=cwd, extra_args=("--workers", "2")) as server:
        yield server


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A new connection each time, so scrapes land on either worker.
    response = httpx.get(
        f"{server.url}/metrics",
        headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"},
    )
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def ping(server) -> None:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": "query Ping { tags { name } }"},
        headers={"Connection": "close"},
    )
    assert response.json() == {"data": {"tags": []}}


def workers_that_answered(server) -> set[int]:
    lines = (json.loads(line) for line in server.logs().splitlines() if line.startswith("{"))
    return {line["pid"] for line in lines if line.get("operation") == "Ping"}


def test_requests_from_both_workers_add_up_in_every_scrape(server):
    sent = 0
    while sent < REQUESTS or (len(workers_that_answered(server)) < 2 and sent < MAX_REQUESTS):
        ping(server)
        sent += 1
    assert len(workers_that_answered(server)) == 2

    labels = {"path": "/graphql", "operation": "Ping", "method": "POST", "status": "200"}
    counts = [
        value(scrape(server), "blog_graphql_http_requests_total", **labels) for _ in range(SCRAPES)
    ]
    assert counts == [sent] * SCRAPES


def published_post(server) -> str:
    """A published post, made through the API: its global id."""

    def call(query: str, token: str = "", **variables: object) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = httpx.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
        ).json()
        assert "errors" not in body, body
        return body["data"]

    call(
        'mutation($p: String!) { register(input: {email: "live@example.com", '
        'username: "live", password: $p}) { id } }',
        p="Secret123",
    )
    token = call(
        'mutation($p: String!) { login(input: {login: "live", password: $p}) { accessToken } }',
        p="Secret123",
    )["login"]["accessToken"]
    created = call(
        'mutation { createPost(input: {title: "Live", content: "Hi", published: true}) { id } }',
        token,
    )
    post_id: str = created["createPost"]["id"]
    return post_id


async def test_open_websockets_and_subscriptions_are_summed_over_live_workers(server):
    name = "blog_graphql_websocket_connections"
    running = {"subscription": "commentAdded"}
    assert value(scrape(server), name) == 0
    post = published_post(server)
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($p: ID!) { commentAdded(postId: $p) { id } }",
            "variables": {"p": post},
        },
    }
    sockets = [
        await websockets.connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
        for _ in range(3)
    ]
    try:
        for socket in sockets:
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            await socket.send(json.dumps(subscribe))
        assert [value(scrape(server), name) for _ in range(SCRAPES)] == [3] * SCRAPES
        assert poll(
            lambda: value(scrape(server), "blog_graphql_subscriptions_active", **running) == 3
        )
    finally:
        for socket in sockets:
            await socket.close()
    # The server notices the closes on its own time.
    assert poll(lambda: value(scrape(server), name) == 0)
    assert poll(lambda: value(scrape(server), "blog_graphql_subscriptions_active", **running) == 0)


def poll(check, attempts=50) -> bool:
    """Whether a condition the server reaches by itself holds within a bounded number of looks."""
    for _ in range(attempts):
        if check():
            return True
        time.sleep(0.1)
    return False
