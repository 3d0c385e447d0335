"""Query limits: measured before execution, through fragments, for fields other helpers add."""

from typing import Any

import httpx
import pytest
from graphql import build_schema, get_operation_ast, parse

from blog_graphql.guards.query_limits import Measure, count_tokens, measure_operation
from tests.conftest import graphql

# A test-only schema shaped like the contract's connections, so the measure is checked on
# fields this branch does not have yet.
BLOG = build_schema("""
    type Query {
      posts(first: Int, after: String): PostConnection!
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


def measure(query: str, variables: dict[str, Any] | None = None) -> Measure:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return measure_operation(BLOG, document, operation, variables)


def test_a_connection_multiplies_what_it_contains_by_first():
    # posts 1, then x5: edges, node, title (3 each)
    assert measure("{ posts(first: 5) { edges { node { title } } } }").cost == 1 + 5 * 3


def test_first_defaults_to_twenty_and_comes_from_variables():
    query = "query($n: Int) { posts(first: $n) { nodes { id } } }"
    assert measure("{ posts { nodes { id } } }").cost == 1 + 20 * 2
    assert measure(query, {"n": 50}).cost == 1 + 50 * 2
    assert measure(query, {}).cost == 1 + 20 * 2
    assert measure("query($n: Int = 7) { posts(first: $n) { nodes { id } } }").cost == 1 + 7 * 2


def test_nested_connections_multiply():
    query = """{ posts(first: 10) { edges { node {
        comments(first: 10) { edges { node { replies(first: 10) { totalCount } } } }
    } } } }"""
    # posts 1; x10: edges node comments; x100: edges node replies; x1000: totalCount
    assert measure(query).cost == 1 + 10 * 3 + 100 * 3 + 1000
    assert measure(query).depth == 8


def test_a_list_without_first_counts_the_default_page_size():
    assert measure("{ tags { name } }").cost == 1 + 20
    # tags inside each of 5 posts: 5 x (node, tags, 20 names)
    assert measure("{ posts(first: 5) { nodes { tags { name } } } }").cost == 1 + 5 * (2 + 20)


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
    assert measure(query).cost == 2**40 * 21


def test_introspection_is_left_to_graphql_cores_own_rule():
    assert measure("{ __schema { types { fields { type { ofType { name } } } } } }").depth == 1


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
    depth = "{ a " * 11 + "}" * 11  # unknown fields: the limits answer before validation
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(16)) + " }"
    tokens = "{ " + "__typename " * 2001 + "}"
    directives = "{ __typename " + "@skip(if: false) " * 51 + "}"
    assert await refused(client, depth) == limit("depth", 10, 11)
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
        ({"query_max_cost": 50}, "{ tags { name slug color } }", limit("cost", 50, 61)),
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
            assert await refused(client, "{ tags { " + "name " * 25 + "} }") == limit(
                "cost", 500, 1 + 20 * 25
            )
        assert "errors" not in await graphql(client, paged, {"n": 5})  # 1 + 5 x 24
        body = await graphql(client, paged, {"n": 50})
        assert body["errors"][0]["extensions"] == limit("cost", 500, 1 + 50 * 24)
        assert "errors" not in await graphql(client, paged, {"n": 5})
