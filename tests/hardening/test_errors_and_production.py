"""Errors always carry a contract code and never leak; production hides the schema."""

import logging

from blog_graphql.posts import service as posts
from tests.conftest import graphql

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
        suggestion = await graphql(client, "{ tagz { name } }")
        page = await client.get("/graphql", headers={"accept": BROWSER_ACCEPT})
        typename = await graphql(client, "{ __typename }")

    assert "data" not in introspection
    for error in introspection["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "introspection has been disabled" in error["message"]
    assert suggestion["errors"][0]["message"] == "Cannot query field 'tagz' on type 'Query'."
    assert page.status_code == 400  # no page: a GET without a query, answered in JSON
    assert page.headers["content-type"] == "application/json; charset=utf-8"
    assert typename == {"data": {"__typename": "Query"}}


async def test_production_can_turn_each_toggle_back_on(client_with):
    toggles = {"introspection": True, "field_suggestions": True, "graphiql": True}
    async with client_with(**PRODUCTION, **toggles) as client:
        introspection = await graphql(client, "{ __schema { queryType { name } } }")
        suggestion = await graphql(client, "{ tagz { name } }")
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert introspection == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'tags'?" in suggestion["errors"][0]["message"]
    assert page.headers["content-type"].startswith("text/html")


async def test_development_keeps_introspection_and_suggestions(client):
    body = await graphql(client, "{ tagz { name } }")
    assert body["errors"][0]["message"].endswith("Did you mean 'tags'?")
