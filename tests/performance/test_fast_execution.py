"""The fast executor answers byte for byte as graphql-core's standard one.

Every document of `documents.py` (the bench queries, edge cases for the executor, every
query document of the test suite) runs through two apps over the same data, anonymous and
as a reader, the writer and an admin; the HTTP status and body must be identical. The fast
app answers each twice: the second time on the fields it collected the first time.
"""

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from blog_graphql.app import create_app
from blog_graphql.engine.execution import FastExecutionContext
from blog_graphql.schema import build_schema
from tests.conftest import graphql
from tests.factories import auth_headers
from tests.performance.documents import documents
from tests.performance.world import bench_queries, build_world

VIEWERS = ["anonymous", "reader", "writer", "admin"]


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def both(app_state):
    """Clients of the app with the fast executor and of one with the standard executor."""
    fast = build_schema(app_state.settings, app_state.rate_limiter)
    standard = build_schema(app_state.settings, app_state.rate_limiter, fast_execution=False)
    assert fast.execution_context_class is FastExecutionContext
    assert standard.execution_context_class is StrawberryGraphQLCoreExecutionContext
    async with (
        client_of(create_app(state=app_state, schema=fast)) as fast_client,
        client_of(create_app(state=app_state, schema=standard)) as standard_client,
    ):
        yield fast_client, standard_client


def test_the_corpus_covers_the_bench_edge_cases_and_the_test_suite():
    names = list(documents())
    assert sum(name.startswith("bench ") for name in names) == 6
    assert sum(name.startswith("edge case ") for name in names) >= 15
    assert sum(".py:" in name for name in names) >= 50


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_fast_execution_answers_byte_for_byte_as_the_standard_one(both, db, settings, viewer):
    world = await build_world(db)
    users = {"reader": world.readers[1], "writer": world.writer, "admin": world.admin}
    headers = await auth_headers(db, settings, users[viewer]) if viewer in users else {}
    fast, standard = both
    differences, answered = [], 0
    for name, query in documents().items():
        body = {"query": query, "variables": world.all_variables()}
        theirs = await standard.post("/graphql", json=body, headers=headers)
        for run in ("first", "again"):  # again: on the fields collected the first time
            ours = await fast.post("/graphql", json=body, headers=headers)
            if (ours.status_code, ours.content) != (theirs.status_code, theirs.content):
                differences.append(
                    f"{name} ({run}):\n  fast:     {ours.text}\n  standard: {theirs.text}"
                )
        answered += b'"data":{' in ours.content
    assert not differences, "\n".join(differences)
    assert answered >= len(documents()) // 2  # most documents get data, not only errors


def planned_fallbacks() -> float:
    return REGISTRY.get_sample_value("blog_graphql_planned_execution_fallbacks_total") or 0.0


def planned_queries() -> float:
    return REGISTRY.get_sample_value("blog_graphql_planned_queries_total") or 0.0


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_the_bench_queries_take_the_planned_path(client, db, settings, viewer):
    world = await build_world(db)
    users = {"reader": world.readers[1], "writer": world.writer, "admin": world.admin}
    headers = await auth_headers(db, settings, users[viewer]) if viewer in users else None
    before, planned_before = planned_fallbacks(), planned_queries()
    for name, query in bench_queries().items():
        body = await graphql(client, query, world.variables(), headers=headers)
        assert "errors" not in body and body["data"], name
    assert planned_fallbacks() == before
    # Each answered by the planned executor: an engine quietly switched off fails here.
    assert planned_queries() == planned_before + len(bench_queries())


async def test_a_query_with_an_error_runs_again_on_the_standard_executor(client, db):
    world = await build_world(db)
    before = planned_fallbacks()
    query = (
        'query($slug: String!) { post(slug: $slug) { title comments(after: "x") { totalCount } } }'
    )
    body = await graphql(client, query, {"slug": world.variables()["slug"]})
    assert body["data"] == {"post": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["post", "comments"]
    assert planned_fallbacks() == before + 1


async def test_node_lookups_of_every_type_take_the_planned_path(client, db):
    world = await build_world(db)
    ids = world.all_variables()
    before = planned_fallbacks()
    query = """query($post: ID!, $user: ID!, $tag: ID!) {
      post: node(id: $post) { __typename id ... on Post { title author { username } } }
      user: node(id: $user) { __typename ... on User { username } }
      tag: node(id: $tag) { __typename ... on Tag { name } }
    }"""
    body = await graphql(client, query, {key: ids[key] for key in ("post", "user", "tag")})
    assert "errors" not in body
    assert [body["data"][key]["__typename"] for key in ("post", "user", "tag")] == [
        "Post",
        "User",
        "Tag",
    ]
    assert body["data"]["post"]["id"] == ids["post"]
    assert planned_fallbacks() == before


async def test_a_failing_resolver_runs_once_though_the_query_runs_twice(client, monkeypatch):
    from blog_graphql.posts import service

    calls = []

    async def failing_list_tags(_db, _viewer):
        calls.append("list_tags")
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_tags", failing_list_tags)
    before = planned_fallbacks()
    body = await graphql(client, "{ tags { name } }")
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert planned_fallbacks() == before + 1  # the standard run reported it
    assert calls == ["list_tags"]  # replayed, not called again
