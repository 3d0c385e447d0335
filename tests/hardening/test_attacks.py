"""Attacks on the shape of a request: each gets its exact answer, changes no row, and the
server answers normally afterwards. The world has users, posts, tags and comments, and every
attack carries a mutation where it can, so "nothing changed" is a real claim.

Already covered elsewhere (not repeated here):

| attack                                        | covered by                                    |
|-----------------------------------------------|-----------------------------------------------|
| malformed JSON bodies, 100,000-deep JSON      | test_http_protocol: malformed_body            |
| bodies over 1 MiB                             | test_http_protocol: over_one_mebibyte         |
| several operations, two Authorization headers | test_http_protocol, test_websocket            |
| headers or bodies sent too slowly             | test_http_protocol: sent_too_slowly           |
| pages over 100, past 64 bits, fragment bombs  | test_query_limits, test_attacks_on_sockets    |
| failures no encoder or database lets through  | test_errors_and_production                    |
| each query limit on `__typename` documents    | test_query_limits: each_limit_answers         |
| aliases of a watched root field, fragments    | test_rate_limits: aliases_of_a_watched_root   |
| WebSocket: foreign origin, oversized message  | test_websocket                                |
| forged refresh tokens                         | accounts/test_token_forgeries                 |
| XSS payloads in Markdown                      | content/test_markdown_safety                  |
| drafts and pending comments in every query    | content/test_visibility                       |
"""

from __future__ import annotations

import json

import pytest

from tests.hardening import attacks
from tests.hardening.attacks import assert_still_serves, only_error, snapshot

GRAPHQL_RESPONSE = "application/graphql-response+json"
DELETE = "deletePost(id: $id)"


world = attacks.world


def deep_posts(levels: int) -> str:
    """`post.author.posts.edges.node.author...`: real fields, nested `levels` times."""
    inner = "title"
    for _ in range(levels):
        inner = f"author {{ posts(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f'{{ post(slug: "public") {{ {inner} }} }}'


def aliased_deletes(count: int) -> str:
    fields = " ".join(f"d{n}: {DELETE}" for n in range(count))
    return f"mutation($id: ID!) {{ {fields} }}"


def fragment_chain(depth: int) -> str:
    """Depth hidden in a chain of fragments: each spreads the next one level deeper."""
    fragments = [
        f"fragment F{n} on User {{ posts {{ edges {{ node {{ author {{ ...F{n + 1} }} }} }} }} }}"
        for n in range(depth)
    ]
    fragments.append(f"fragment F{depth} on User {{ username }}")
    return '{ post(slug: "public") { author { ...F0 } } } ' + " ".join(fragments)


LIMIT = "QUERY_TOO_COMPLEX"
TOUCHED = ("posts", "comments", "tags", "DELETE", "UPDATE", "INSERT")
SHAPE_ATTACKS = [
    # (name, document, expected code, expected extensions beyond the code)
    ("deep nesting", deep_posts(5), LIMIT, {"rule": "depth", "limit": 15}),
    ("alias bomb of deletes", aliased_deletes(16), LIMIT, {"rule": "aliases", "limit": 15}),
    (
        "alias bomb of 100 fields",
        "{ " + " ".join(f"a{n}: __typename" for n in range(100)) + " }",
        LIMIT,
        {"rule": "aliases", "limit": 15},
    ),
    (
        "token flood in a mutation",
        "mutation($id: ID!) { " + DELETE + " __typename" * 2000 + " }",
        LIMIT,
        {"rule": "tokens", "limit": 2000},
    ),
    (
        "directive flood on a mutation",
        "mutation($id: ID!) { " + DELETE + " @include(if: true)" * 60 + " }",
        LIMIT,
        {"rule": "directives", "limit": 50},
    ),
    ("fragments hiding depth", fragment_chain(4), LIMIT, {"rule": "depth", "limit": 15}),
    (
        "cost through nested pages",
        "{ posts(first: 100) { edges { node { comments(first: 100) "
        "{ edges { node { content } } } } } } }",
        LIMIT,
        {"rule": "cost", "limit": 10000},
    ),
    (
        "fragment cycle",
        "mutation($id: ID!) { " + DELETE + " ...A } fragment A on Mutation "
        "{ ...B } fragment B on Mutation { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
        {},
    ),
    (
        "fragment spreading itself",
        "{ ...A } fragment A on Query { __typename ...A }",
        "GRAPHQL_VALIDATION_FAILED",
        {},
    ),
    ("unclosed document", "mutation($id: ID!) { " + DELETE, "GRAPHQL_PARSE_FAILED", {}),
]


@pytest.mark.parametrize(
    ("document", "code", "extensions"),
    [attack[1:] for attack in SHAPE_ATTACKS],
    ids=[attack[0] for attack in SHAPE_ATTACKS],
)
async def test_a_hostile_document_is_refused_before_anything_runs(
    client, db, world, sql_log, document, code, extensions
):
    before = await snapshot(db)
    sql_log.clear()
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": {"id": world["ids"]["post"]}},
        headers={**world["ada_headers"], "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    errors = [error["extensions"] for error in body["errors"]]
    assert {error["code"] for error in errors} == {code}
    if code == LIMIT:  # every limit passed is named with its measure; one is the expected
        assert all(error["measured"] > error["limit"] for error in errors)
        assert extensions in [{"rule": e["rule"], "limit": e["limit"]} for e in errors]
    # Only the bearer's session was read: the guards answer before any resolver runs.
    assert not any(table in s for s in sql_log.statements() for table in TOUCHED)
    assert await snapshot(db) == before
    await assert_still_serves(client)


BATCHES = [
    [{"query": "mutation($id: ID!) { deletePost(id: $id) }"}] * 2,
    [{"query": "{ __typename }"}],
    [],
]


@pytest.mark.parametrize("batch", BATCHES, ids=["two deletes", "one query", "empty"])
async def test_a_batch_array_is_refused_whole(client, db, world, batch):
    before = await snapshot(db)
    for operation in batch:
        operation["variables"] = {"id": world["ids"]["post"]}
    response = await client.post("/graphql", json=batch, headers=world["ada_headers"])
    assert response.status_code == 400
    error = only_error(response.json())
    assert error["code"] == "BAD_REQUEST"
    assert await snapshot(db) == before
    await assert_still_serves(client)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_a_cross_site_mutation_is_refused_even_with_a_token(client, db, world, content_type):
    """A form on another site posting `deletePost` with the victim's credentials."""
    before = await snapshot(db)
    query = f'mutation {{ deletePost(id: "{world["ids"]["post"]}") }}'
    body = json.dumps({"query": query})
    response = await client.post(
        "/graphql",
        content=body.encode(),
        headers={**world["ada_headers"], "Content-Type": content_type},
    )
    # Multipart is how uploads come (API.md): without a preflight header it is a CSRF
    # attempt (400); the other form types are not GraphQL bodies at all (415).
    assert response.status_code == (400 if content_type.startswith("multipart/") else 415)
    assert only_error(response.json())["code"] == "BAD_REQUEST"
    assert await snapshot(db) == before
    await assert_still_serves(client)


async def test_a_mutation_over_get_with_a_token_deletes_nothing(client, db, world):
    before = await snapshot(db)
    query = f'mutation {{ deletePost(id: "{world["ids"]["post"]}") }}'
    response = await client.get("/graphql", params={"query": query}, headers=world["ada_headers"])
    assert response.status_code == 405
    assert only_error(response.json())["code"] == "BAD_REQUEST"
    assert await snapshot(db) == before
    await assert_still_serves(client)
