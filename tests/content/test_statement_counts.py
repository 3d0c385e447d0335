"""No N+1: the feed and a post page run a fixed number of SQL statements."""

import pytest

from tests.conftest import graphql
from tests.factories import auth_headers, create_comment, create_post, create_user

FEED = """query Feed($first: Int) {
  posts(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      title slug excerpt publishedAt
      author { username fullName }
      tags { name slug }
      commentCount
      comments(first: 5) { edges { node { content createdAt author { username } } } }
    } }
  }
}"""

POST_PAGE = """query Page($slug: String!) {
  post(slug: $slug) {
    title contentHtml publishedAt
    author { username }
    tags { name }
    commentCount
    comments(first: 20) { edges { node {
      content author { username }
      replies(first: 20) { edges { node {
        content author { username }
        replies(first: 20) { edges { node { content author { username } } } }
      } } }
    } } }
  }
}"""


async def make_feed(db, posts: int):
    """Posts by three writers, each with a comment by each of three other readers."""
    writers = [await create_user(db) for _ in range(3)]
    readers = [await create_user(db) for _ in range(3)]
    for n in range(posts):
        post = await create_post(db, author=writers[n % 3], tags=["python", f"t{n % 4}"])
        for reader in readers:
            await create_comment(db, post=post, author=reader, content=f"c{n}")
    return readers


@pytest.mark.parametrize("size", [20, 100])
async def test_the_feed_runs_six_statements_plus_the_auth_check(
    client, db, settings, sql_log, size
):
    readers = await make_feed(db, size)
    headers = await auth_headers(db, settings, readers[0])
    sql_log.clear()

    body = await graphql(client, FEED, {"first": size}, headers=headers)

    edges = body["data"]["posts"]["edges"]
    assert len(edges) == size
    assert all(edge["node"]["commentCount"] == 3 for edge in edges)
    assert all(len(edge["node"]["comments"]["edges"]) == 3 for edge in edges)
    assert edges[0]["node"]["comments"]["edges"][0]["node"]["author"]["username"]
    print(f"feed of {size}: {len(sql_log.statements())} statements")
    for statement in sql_log.statements():
        print("  ", statement.replace("\n", " "))
    # The auth check, then posts, authors, tags, comment counts, comments, commenters.
    assert len(sql_log.statements()) <= 1 + 6
