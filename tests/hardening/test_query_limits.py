"""Query limits: measured before execution, through fragments, for fields other helpers add."""

from typing import Any

import httpx
import pytest
from graphql import (
    OperationDefinitionNode,
    build_schema,
    get_introspection_query,
    get_operation_ast,
    parse,
    print_ast,
)

from blog_graphql.guards.introspection_cost import OverBudget
from blog_graphql.guards.query_limits import BadPageSize, Measure, count_tokens, measure_operation
from tests.conftest import graphql
from tests.factories import create_comment, create_post, create_user
from tests.hardening.attacks import assert_still_serves, only_error

GRAPHQL_RESPONSE = "application/graphql-response+json"

# A test-only schema shaped like the contract's connections, so the measure is checked on
# fields this branch does not have yet.
BLOG = build_schema("""
    type Query {
      posts(first: Int, after: String, last: Int): PostConnection!
      tags: [Tag!]!
      node(id: ID!): Node
    }
    interface Node { id: ID! }
    type PageInfo { hasNextPage: Boolean! endCursor: String }
    type PostConnection {
      edges: [PostEdge!]! nodes: [Post!]! pageInfo: PageInfo! totalCount: Int!
    }
    type PostEdge { cursor: String! node: Post! }
    type Post implements Node {
      id: ID! title: String! tags: [Tag!]!
      comments(first: Int, after: String): CommentConnection!
    }
    type CommentConnection { edges: [CommentEdge!]! totalCount: Int! }
    type CommentEdge { node: Comment! }
    type Comment implements Node {
      id: ID! content: String! replies(first: Int): CommentConnection!
    }
    type Tag implements Node { id: ID! name: String! }
""")


def measure(
    query: str, variables: dict[str, Any] | None = None, budget: int | None = None
) -> Measure:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return measure_operation(BLOG, document, operation, variables, budget=budget)


def test_a_connection_multiplies_what_it_contains_by_first():
    # the connection 1, then x5: each edge and each node 1; scalars 0
    assert measure("{ posts(first: 5) { edges { node { title } } } }").cost == 1 + 5 * 2
    assert measure("{ posts(first: 5) { totalCount pageInfo { endCursor } } }").cost == 1 + 1


def test_first_defaults_to_twenty_and_comes_from_variables():
    query = "query($n: Int) { posts(first: $n) { nodes { id } } }"
    assert measure("{ posts { nodes { id } } }").cost == 1 + 20
    assert measure(query, {"n": 50}).cost == 1 + 50
    assert measure(query, {}).cost == 1 + 20
    assert measure("query($n: Int = 7) { posts(first: $n) { nodes { id } } }").cost == 1 + 7
    assert measure("{ posts(first: 0) { nodes { id } } }").cost == 1


def test_nested_connections_multiply():
    query = """{ posts(first: 10) { edges { node {
        comments(first: 10) { edges { node { replies(first: 10) { totalCount } } } }
    } } } }"""
    # posts 1; x10: edge, node, comments; x100: edge, node, replies
    assert measure(query).cost == 1 + 10 * 3 + 100 * 3
    assert measure(query).depth == 8


def test_a_list_without_first_counts_the_default_page_size():
    assert measure("{ tags { name } }").cost == 20
    # 5 posts, each with 20 tags
    assert measure("{ posts(first: 5) { nodes { tags { name } } } }").cost == 1 + 5 * (1 + 20)


def test_fragments_and_inline_fragments_count_where_they_are_spread():
    spread = """{ posts(first: 5) { ...Page } }
        fragment Page on PostConnection { edges { node { ...on Post { title } } } }"""
    assert measure(spread) == measure("{ posts(first: 5) { edges { node { title } } } }")


def test_aliases_are_counted_through_every_spread_of_a_fragment():
    query = """{ ...Two a: tags { name } ...Two }
        fragment Two on Query { b: tags { id } c: tags { id } }"""
    assert measure(query).aliases == 5


def test_directives_are_counted_wherever_they_apply():
    query = """query($s: Boolean!) @a { tags @include(if: $s) { name @skip(if: $s) } ...F @b }
        fragment F on Query @c { tags { id @d } }"""
    assert measure(query).directives == 6


def test_a_fragment_bomb_is_measured_without_expanding_it():
    fragments = "\n".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40)
    )
    query = f"{{ ...F0 }}\n{fragments}\nfragment F40 on Query {{ tags {{ id }} }}"
    assert measure(query).cost == 2**40 * 20


def test_introspection_counts_the_objects_of_its_answer():
    """Introspection lists are as long as the schema makes them, known before running."""
    assert measure("{ __schema { queryType { name } types { name } } }") == Measure(
        depth=3, cost=1 + 1 + len(BLOG.type_map)
    )
    post_fields = '{ __type(name: "Post") { fields { name args { name } } } }'
    # the type, its 4 fields, and the 2 arguments of `comments`
    assert measure(post_fields).cost == 1 + 4 + 2
    assert measure("{ a: __typename b: __schema { queryType { name } } }") == Measure(
        depth=3, aliases=2, cost=2
    )


def test_fragment_bombs_and_cycles_inside_introspection_are_measured_without_expanding():
    fragments = "\n".join(
        f"fragment F{n} on __Schema {{ ...F{n + 1} ...F{n + 1} }}" for n in range(60)
    )
    bomb = (
        f"{{ __schema {{ ...F0 }} }}\n{fragments}\nfragment F60 on __Schema {{ types {{ name }} }}"
    )
    assert measure(bomb, budget=2**100) == Measure(depth=3, cost=1 + 2**60 * len(BLOG.type_map))
    with pytest.raises(OverBudget):
        measure(bomb, budget=10_000)
    cycle = """{ __schema { types { ...A } } }
        fragment A on __Type { name ofType { ...B } } fragment B on __Type { kind ...A }"""
    assert measure(cycle).cost == 1 + len(BLOG.type_map)


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        ("{ posts(first: 101) { totalCount } }", None, "first"),
        ("{ posts(first: -1) { totalCount } }", None, "first"),
        ("{ posts(last: 4011107580203296620544) { totalCount } }", None, "last"),
        ("query($n: Int) { posts(first: $n) { totalCount } }", {"n": 2**40}, "first"),
        ("query($n: Int = 101) { posts(first: $n) { totalCount } }", None, "first"),
    ],
)
def test_a_page_size_no_page_may_have_is_refused_before_any_cost(query, variables, argument):
    with pytest.raises(BadPageSize) as refused:
        measure(query, variables)
    assert refused.value.argument == argument


def test_tokens_count_punctuation_names_strings_and_comments():
    assert count_tokens('{ a(b: "c d") # note\n}', cap=100) == 9
    assert count_tokens("{ a " * 10_000, cap=500) == 500


async def refused(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    body = await graphql(client, query)
    assert "data" not in body
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def test_each_limit_answers_query_too_complex_with_limit_and_measure(client, sql_log):
    depth = "{ a " * 16 + "}" * 16  # unknown fields: the limits answer before validation
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(16)) + " }"
    tokens = "{ " + "__typename " * 2001 + "}"
    directives = "{ __typename " + "@skip(if: false) " * 51 + "}"
    assert await refused(client, depth) == limit("depth", 15, 16)
    assert await refused(client, aliases) == limit("aliases", 15, 16)
    assert await refused(client, tokens) == limit("tokens", 2000, 2003)
    assert await refused(client, directives) == limit("directives", 50, 51)
    assert sql_log.statements() == []  # refused before anything ran


def limit(rule: str, maximum: int, measured: int) -> dict[str, Any]:
    return {"code": "QUERY_TOO_COMPLEX", "rule": rule, "limit": maximum, "measured": measured}


@pytest.mark.parametrize(
    ("setting", "query", "expected"),
    [
        ({"query_max_depth": 1}, "{ tags { name } }", limit("depth", 1, 2)),
        ({"query_max_aliases": 1}, "{ a: __typename b: __typename }", limit("aliases", 1, 2)),
        ({"query_max_directives": 0}, "{ __typename @skip(if: false) }", limit("directives", 0, 1)),
        ({"query_max_tokens": 5}, "{ a b c d e f }", limit("tokens", 5, 8)),
        (
            {"query_max_cost": 50},
            "{ posts(first: 30) { edges { node { id } } } }",
            limit("cost", 50, 61),
        ),
    ],
)
async def test_every_limit_is_configurable(client_with, sql_log, setting, query, expected):
    async with client_with(**setting) as client:
        assert await refused(client, query) == expected
        assert await graphql(client, "{ __typename }") == {"data": {"__typename": "Query"}}
    assert sql_log.statements() == []


async def test_a_query_within_a_lowered_cost_limit_runs(client_with, sql_log):
    async with client_with(query_max_cost=50) as client:
        body = await graphql(client, "{ tags { name slug } }")  # 1 + 20 x 2 = 41
    assert body == {"data": {"tags": []}}
    assert len(sql_log.statements()) == 1


async def test_a_repeated_document_is_measured_again_with_its_new_variables(client_with, sql_log):
    """Measures are kept per document, except those that read a variable (a page size)."""
    paged = "query Q($n: Int) { posts(first: $n) { edges { node { title tags { name } } } } }"
    async with client_with(query_max_cost=500) as client:
        for _ in range(2):  # the second time, the document and its measure are cached
            assert await refused(
                client, "{ posts(first: 100) { edges { node { tags { id } } } } }"
            ) == (limit("cost", 500, 1 + 100 * 22))
        assert "errors" not in await graphql(client, paged, {"n": 5})  # 1 + 5 x 22
        body = await graphql(client, paged, {"n": 50})
        assert body["errors"][0]["extensions"] == limit("cost", 500, 1 + 50 * 22)
        assert "errors" not in await graphql(client, paged, {"n": 5})


PAGE_OF_THREADS = """query($slug: String!) { post(slug: $slug) { id title
    comments(first: 50) { edges { node { id content author { id username }
        replies(first: 50) { edges { node { id content author { id username } } } }
    } } }
} }"""
THREE_REPLY_LEVELS = """query($slug: String!) { post(slug: $slug) {
    comments(first: 10) { edges { node { author { username }
      replies(first: 5) { edges { node { author { username }
        replies(first: 5) { edges { node { author { username }
          replies(first: 5) { edges { node { id content author { username } } } }
    } } } } } } } } }
} }"""


async def test_a_page_of_fifty_comments_with_fifty_replies_each_runs(client, db):
    """Cost 7,702 (was measured 15,353 when scalars cost 1), depth 15: both within limits."""
    ada = await create_user(db, username="ada")
    post = await create_post(db, author=ada, title="Threads")
    comment = await create_comment(db, post=post, author=ada, content="top")
    reply = await create_comment(db, post=post, author=ada, content="one", parent=comment)
    deeper = await create_comment(db, post=post, author=ada, content="two", parent=reply)
    await create_comment(db, post=post, author=ada, content="three", parent=deeper)

    page = await graphql(client, PAGE_OF_THREADS, {"slug": post.slug})
    thread = await graphql(client, THREE_REPLY_LEVELS, {"slug": post.slug})

    assert "errors" not in page, page
    [top] = page["data"]["post"]["comments"]["edges"]
    assert top["node"]["replies"]["edges"][0]["node"]["content"] == "one"
    assert "errors" not in thread, thread
    level = thread["data"]["post"]["comments"]["edges"][0]["node"]
    for _ in range(3):
        level = level["replies"]["edges"][0]["node"]
    assert (level["content"], level["author"]) == ("three", {"username": "ada"})


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ posts(first: 10000) { totalCount } }", None),
        ("{ posts(first: 4011107580203296620544) { totalCount } }", None),
        ("{ posts(first: 18446744073709551617) { totalCount } }", None),
        ("query($n: Int) { posts(first: $n) { totalCount } }", {"n": 1099511627776}),
        ("query($n: Int) { posts(first: $n) { totalCount } }", {"n": 101}),
    ],
)
async def test_a_page_over_one_hundred_is_bad_user_input_on_first(
    client, sql_log, query, variables
):
    for accept, status in (("application/json", 200), (GRAPHQL_RESPONSE, 400)):
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"accept": accept}
        )
        assert response.status_code == status
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
        body = response.json()
        assert "data" not in body
        assert only_error(body) == {
            "message": "Invalid input.",
            "code": "BAD_USER_INPUT",
            "fields": {"first": "Use a number from 0 to 100."},
        }
    assert sql_log.statements() == []
    await assert_still_serves(client)


GRAPHIQL_SCHEMA_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    input_value_deprecation=True,
)


async def test_introspection_counts_like_any_query(client):
    """GraphiQL's schema query (some 700 objects) runs; fifteen aliased copies are refused."""
    schema = await graphql(client, GRAPHIQL_SCHEMA_QUERY)
    assert "errors" not in schema
    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"

    operation, *fragments = parse(GRAPHIQL_SCHEMA_QUERY).definitions
    assert isinstance(operation, OperationDefinitionNode)
    [schema_field] = operation.selection_set.selections
    copies = " ".join(f"a{n}: {print_ast(schema_field)}" for n in range(15))
    fragments_text = "\n".join(map(print_ast, fragments))
    body = await graphql(client, f"query {{ {copies} }}\n{fragments_text}")
    assert "data" not in body
    refusal = only_error(body)
    assert (refusal["code"], refusal["rule"], refusal["limit"]) == (
        "QUERY_TOO_COMPLEX",
        "cost",
        10_000,
    )
    assert refusal["measured"] > 10_000
    await assert_still_serves(client)


async def test_a_fragment_bomb_is_refused_in_json_with_a_safe_number(client):
    """2^70 x 20 objects: a number past 64 bits, said as the largest JSON number kept exact."""
    fragments = "\n".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(70)
    )
    query = f"{{ ...F0 }}\n{fragments}\nfragment F70 on Query {{ tags {{ id }} }}"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert only_error(response.json()) == {
        "message": "Query is too complex: cost is over 9,007,199,254,740,991, the limit is 10,000.",
        **limit("cost", 10_000, 2**53 - 1),
    }
    await assert_still_serves(client)
