"""GraphQL query documents to run through both executors: the bench's, a set aimed at the
executor's edge cases, and every query document written in the test suite."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

from tests.performance.world import bench_queries

TESTS = Path(__file__).parents[1]

POST_FIELDS = """
  fragment Card on Post { id title slug excerpt published publishedAt createdAt updatedAt }
  fragment Person on User { id username fullName bio email isActive isAdmin emailVerified }
"""

EDGE_CASES = [
    # Fragments (named, inline, on an interface), aliases, __typename at every level.
    """query { posts(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor
      endCursor } edges { cursor node { __typename ...Card a: title b: title author {
      ...Person __typename } tags { id name slug color } } } } }"""
    + POST_FIELDS,
    """query { posts(first: 2) { edges { node { ... on Node { id } ... on Post { title }
      comments(first: 2) { totalCount edges { node { id content isApproved createdAt
      updatedAt parent { id } post { title } author { username } replies(first: 1) {
      totalCount edges { node { content } } } } } } } } } }""",
    # @skip and @include, literal and by variable, on fields, fragments and inline fragments.
    """query($yes: Boolean = true, $no: Boolean = false) { tags { name @skip(if: $yes)
      slug @include(if: $yes) color @include(if: $no) ... on Tag @skip(if: $no) { id }
      ...T @include(if: false) } } fragment T on Tag { posts(first: 1) { totalCount } }""",
    # Node refetch on every type, with good, foreign, malformed and invisible ids.
    """query($post: ID!, $user: ID!, $tag: ID!, $comment: ID!, $draft: ID!, $waiting: ID!) {
      p: node(id: $post) { __typename id ... on Post { title content contentHtml } }
      u: node(id: $user) { __typename id ... on User { username email posts { totalCount } } }
      t: node(id: $tag) { __typename id ... on Tag { name posts(first: 2) { totalCount
        edges { node { title } } } } }
      c: node(id: $comment) { __typename id ... on Comment { content post { slug } } }
      d: node(id: $draft) { id } w: node(id: $waiting) { id }
      bad: node(id: "not-an-id") { id } }""",
    'query { node(id: "VXNlcjo5OTk5OTk=") { id } }',
    # Null propagation: a missing post, errors in lists and non-null fields.
    'query { post(slug: "no-such-post") { title author { username } } }',
    "query { posts(first: 101) { totalCount } }",
    'query { posts(first: 2, after: "broken") { edges { cursor } } }',
    "query { posts(first: -1) { edges { node { title } } } tags { name } }",
    # Permission failures and fields only some viewers see.
    "query { users(first: 5) { totalCount edges { node { username email } } } }",
    "query { me { username email isAdmin posts(first: 5) { totalCount } } }",
    "query($username: String!) { user(username: $username) { email posts(first: 5) {"
    " edges { node { title published } } } } }",
    # Filters and search.
    'query { posts(first: 5, filter: {author: "nobody", published: true}) { totalCount } }',
    "query { posts(first: 5, filter: {published: false}) { edges { node { title } } } }",
    # Errors before execution: unknown fields, bad arguments, syntax.
    "query { posts { edges { node { nope } } } }",
    "query { post { title } }",
    "query { posts(first: 2) { edges { node { title } }",
    "{ __typename __schema { queryType { name } } }",
]


def edge_cases() -> list[str]:
    return EDGE_CASES


@cache
def documents() -> dict[str, str]:
    """Every document by a readable name (first line or location)."""
    found: dict[str, str] = {f"bench {name}": query for name, query in bench_queries().items()}
    for n, query in enumerate(EDGE_CASES):
        found[f"edge case {n}"] = query
    seen = set(found.values())
    for where, query in test_suite_queries():
        if query not in seen:
            seen.add(query)
            found[where] = query
    return found


def test_suite_queries() -> Iterator[tuple[str, str]]:
    """String constants of the test suite that parse as query-only GraphQL documents."""
    for path in sorted(TESTS.rglob("*.py")):
        if path.parent.name == "performance":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if only_queries(node.value):
                yield f"{path.relative_to(TESTS)}:{node.lineno}", node.value


def only_queries(text: str) -> bool:
    if "{" not in text or len(text) > 20_000:
        return False
    try:
        document = parse(text)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(op.operation is OperationType.QUERY for op in operations)
