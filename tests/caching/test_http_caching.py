"""ETag, If-None-Match and 304, and who gets `no-store`: API.md "HTTP caching"."""

from __future__ import annotations

import pytest

from tests.conftest import SqlLog
from tests.factories import auth_headers, create_post, create_user

FEED = "query Feed { posts(first: 5) { totalCount edges { node { title author { username } } } } }"
PUBLIC = "public, max-age=0, must-revalidate"


@pytest.fixture
async def author(db):
    ada = await create_user(db, username="ada")
    await create_post(db, author=ada, title="Hello", published=True)
    return ada


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_anonymous_query_carries_a_strong_etag_and_revalidates(client, author, method):
    def ask(headers=None):
        if method == "GET":
            return client.get("/graphql", params={"query": FEED}, headers=headers)
        return client.post("/graphql", json={"query": FEED}, headers=headers)

    first = await ask()
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == PUBLIC
    assert {"Accept", "Authorization"} <= {v.strip() for v in first.headers["vary"].split(",")}
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = await ask({"If-None-Match": header})
        assert (again.status_code, again.content) == (304, b""), header
        assert again.headers["etag"] == etag and again.headers["cache-control"] == PUBLIC
    changed = await ask({"If-None-Match": '"something-else"'})
    assert (changed.status_code, changed.content) == (200, first.content)


async def test_a_304_from_the_cache_runs_no_statement(client, author, sql_log: SqlLog):
    etag = (await client.post("/graphql", json={"query": FEED})).headers["etag"]
    sql_log.clear()
    again = await client.post("/graphql", json={"query": FEED}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert sql_log == []


async def test_a_cache_hit_returns_the_same_bytes_without_executing(client, author, sql_log):
    first = await client.get("/graphql", params={"query": FEED})
    sql_log.clear()
    hit = await client.get("/graphql", params={"query": FEED})
    assert (hit.status_code, hit.content, hit.headers["etag"]) == (
        200,
        first.content,
        first.headers["etag"],
    )
    assert hit.headers["content-type"] == first.headers["content-type"]
    assert sql_log == []


async def test_the_media_type_is_part_of_the_key(client, author):
    plain = await client.post("/graphql", json={"query": FEED})
    graphql = await client.post(
        "/graphql",
        json={"query": FEED},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert graphql.headers["content-type"].startswith("application/graphql-response+json")
    assert plain.headers["content-type"].startswith("application/json")


async def test_variables_and_operation_name_are_part_of_the_key(client, db, author):
    bob = await create_user(db, username="bob")
    await create_post(db, author=bob, title="By Bob", published=True)
    by = "query By($a: String) { posts(filter: {author: $a}) { edges { node { title } } } }"
    titles = []
    for name in ("ada", "bob", "ada"):
        body = (await client.post("/graphql", json={"query": by, "variables": {"a": name}})).json()
        titles.append([e["node"]["title"] for e in body["data"]["posts"]["edges"]])
    assert titles == [["Hello"], ["By Bob"], ["Hello"]]


async def test_signed_in_requests_and_mutations_stay_no_store(client, db, settings, author):
    headers = await auth_headers(db, settings, author)
    signed_in = await client.post("/graphql", json={"query": FEED}, headers=headers)
    assert signed_in.headers["cache-control"] == "no-store"
    assert "etag" not in signed_in.headers
    mutation = 'mutation { requestPasswordReset(email: "x@example.com") }'
    answer = await client.post("/graphql", json={"query": mutation})
    assert answer.headers["cache-control"] == "no-store"
    assert "etag" not in answer.headers


async def test_answers_with_errors_carry_no_etag_and_are_not_public(client, author, sql_log):
    broken = "{ posts(first: 500) { totalCount } }"  # BAD_USER_INPUT
    for _ in range(2):
        sql_log.clear()
        answer = await client.post("/graphql", json={"query": broken})
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "etag" not in answer.headers
        assert "public" not in answer.headers.get("cache-control", "")


async def test_without_the_response_cache_etags_still_revalidate(make_instance, author):
    uncached = make_instance(response_cache_enabled=False, redis=False)
    first = await uncached.post(FEED)
    again = await uncached.post(FEED, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert uncached.cache is None
