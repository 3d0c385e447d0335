"""Errors always carry a contract code and never leak; production hides the schema."""

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from blog_graphql.accounts.tokens import encode_token
from blog_graphql.config.settings import load_settings
from blog_graphql.posts import service as posts
from tests.conftest import graphql
from tests.live.clients import LEGACY_WS, TRANSPORT_WS, graphql_socket
from tests.live.conftest import REPO, TEST_APP
from tests.live_server import LiveServer, clean_environment, live_server

PRODUCTION = {"environment": "production", "secret_key": "s" * 32}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_an_unexpected_failure_is_masked_and_logged_with_the_request_id(
    client, monkeypatch, caplog
):
    async def broken(_db, _viewer):
        raise RuntimeError("SELECT secret FROM /srv/app/db.py")

    monkeypatch.setattr(posts, "list_tags", broken)
    with caplog.at_level(logging.ERROR, logger="blog_graphql.errors"):
        response = await client.post("/graphql", json={"query": "{ tags { name } }"})

    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "secret" not in response.text and "db.py" not in response.text
    [record] = caplog.records
    assert request_id in record.getMessage()
    assert "SELECT secret" in str(record.exc_info[1])  # the operator sees what happened


async def test_every_response_carries_a_request_id_and_a_safe_given_one_is_kept(client):
    given = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "lb-1234abcd"}
    )
    forged = await client.get("/healthz", headers={"x-request-id": "bad\r\nid"})
    missing = await client.get("/nowhere")
    assert given.headers["x-request-id"] == "lb-1234abcd"
    assert len(forged.headers["x-request-id"]) == 32
    assert len(missing.headers["x-request-id"]) == 32


async def test_production_turns_off_introspection_suggestions_and_graphiql(client_with):
    async with client_with(**PRODUCTION) as client:
        introspection = await graphql(client, "{ __schema { types { name } } }")
        suggestion = await graphql(client, "{ webhookz { totalCount } }")
        page = await client.get("/graphql", headers={"accept": BROWSER_ACCEPT})
        typename = await graphql(client, "{ __typename }")

    assert "data" not in introspection
    for error in introspection["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "introspection has been disabled" in error["message"]
    assert suggestion["errors"][0]["message"] == "Cannot query field 'webhookz' on type 'Query'."
    assert page.status_code == 400  # no page: a GET without a query, answered in JSON
    assert page.headers["content-type"] == "application/json; charset=utf-8"
    assert typename == {"data": {"__typename": "Query"}}


async def test_production_can_turn_each_toggle_back_on(client_with):
    toggles = {"introspection": True, "field_suggestions": True, "graphiql": True}
    async with client_with(**PRODUCTION, **toggles) as client:
        introspection = await graphql(client, "{ __schema { queryType { name } } }")
        suggestion = await graphql(client, "{ webhookz { totalCount } }")
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert introspection == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'webhooks'?" in suggestion["errors"][0]["message"]
    assert page.headers["content-type"].startswith("text/html")


async def test_development_keeps_introspection_and_suggestions(client):
    body = await graphql(client, "{ webhookz { totalCount } }")
    assert body["errors"][0]["message"].endswith("Did you mean 'webhooks'?")


# A real server whose database cannot be reached, serving the test app (its `unencodable`
# field answers a number no JSON encoder takes).
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/nowhere"
SAFETY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory) -> Iterator[LiveServer]:
    # No relay of the in-process worker (it would find the database down too) meanwhile.
    env = clean_environment(DATABASE_URL=UNREACHABLE_DATABASE, OUTBOX_RELAY_INTERVAL_SECONDS="3600")
    with live_server(env=env, cwd=REPO, command=TEST_APP) as running:
        yield running


def assert_internal_error_in_json(response: httpx.Response, media: str) -> str:
    """A JSON 500 with the request id in body and header, and the safety headers; the id."""
    assert response.status_code == 500
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }
    for header in SAFETY_HEADERS:
        assert header in response.headers
    return request_id


async def tracebacks_logged(server: LiveServer, since: int, request_id: str) -> int:
    """Tracebacks the server printed after offset `since`, once the request's is out."""
    for _ in range(100):
        if request_id in server.logs()[since:]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a second logger of the same failure would be done by now
    logged = server.logs()[since:]
    assert f"(request {request_id})" in logged
    return logged.count("Traceback (most recent call last)")


@pytest.mark.parametrize("media", ["application/json", "application/graphql-response+json"])
async def test_a_signed_in_request_while_the_database_is_down_is_a_json_500(broken_server, media):
    token = encode_token(
        load_settings(_env_file=None),
        user_id=1,
        session_id="s1",
        token_type="access",
        lifetime=timedelta(minutes=5),
    )
    since = len(broken_server.logs())
    async with httpx.AsyncClient(base_url=broken_server.url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}", "Accept": media},
        )
        request_id = assert_internal_error_in_json(response, media)
        assert await tracebacks_logged(broken_server, since, request_id) == 1
        still = await http.post("/graphql", json={"query": "{ __typename }"})
    assert (still.status_code, still.json()) == (200, {"data": {"__typename": "Query"}})


async def test_an_answer_no_encoder_takes_is_a_json_500_over_http(broken_server):
    since = len(broken_server.logs())
    async with httpx.AsyncClient(base_url=broken_server.url, timeout=30) as http:
        response = await http.post("/graphql", json={"query": "{ unencodable }"})
        request_id = assert_internal_error_in_json(response, "application/json")
        assert await tracebacks_logged(broken_server, since, request_id) == 1
        still = await http.post("/graphql", json={"query": "{ __typename }"})
    assert (still.status_code, still.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize(
    ("protocol", "operation"),
    [
        (TRANSPORT_WS, "{ unencodable }"),
        (TRANSPORT_WS, "subscription { unencodable }"),
        (LEGACY_WS, "subscription { unencodable }"),  # the legacy protocol runs no queries
    ],
)
async def test_an_answer_no_encoder_takes_is_an_error_over_websocket(
    broken_server, protocol, operation
):
    """The operation gets its answer (not silence), then the socket serves the next one."""
    since = len(broken_server.logs())
    async with graphql_socket(broken_server.ws_url, protocol) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await socket.subscribe("1", operation)
        answer = await socket.receive()
        assert answer["type"] == "next" and answer["id"] == "1"
        [error] = answer["payload"]["errors"]
        assert answer["payload"]["data"] is None
        assert error["message"] == "Internal server error."
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        request_id = error["extensions"]["requestId"]
        assert await tracebacks_logged(broken_server, since, request_id) == 1
        assert (await socket.receive()) == {"id": "1", "type": "complete"}
        await socket.subscribe("2", "subscription { viewer }")
        assert await socket.next_data("2") == {"viewer": None}
