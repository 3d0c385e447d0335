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

# Two levels of comments (API.md's depth limit of 10 leaves room for no more with authors).
POST_PAGE = """query Page($slug: String!) {
  post(slug: $slug) {
    title contentHtml publishedAt
    author { username }
    tags { name }
    commentCount
    comments(first: 20) { edges { node {
      content author { username }
      replies(first: 10) { edges { node { content author { username } } } }
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


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("size", [20, 100])
async def test_the_feed_runs_two_statements_plus_the_auth_check(
    client, db, settings, sql_log, size, signed_in
):
    readers = await make_feed(db, size)
    headers = await auth_headers(db, settings, readers[0]) if signed_in else None
    sql_log.clear()

    body = await graphql(client, FEED, {"first": size}, headers=headers)

    edges = body["data"]["posts"]["edges"]
    assert len(edges) == size
    assert all(edge["node"]["commentCount"] == 3 for edge in edges)
    assert all(len(edge["node"]["comments"]["edges"]) == 3 for edge in edges)
    assert edges[0]["node"]["comments"]["edges"][0]["node"]["author"]["username"]
    print(f"feed of {size}, signed in {signed_in}: {len(sql_log.statements())} statements")
    for statement in sql_log.statements():
        print("  ", statement.replace("\n", " "))
    # The auth check, then posts with their authors, comment counts and tags, and comments
    # with their authors.
    assert len(sql_log.statements()) <= signed_in + 2


async def make_thread(db, post, levels, top: int, replies: int):
    """`top` comments, each with `replies` replies, each with a reply of its own (a level
    deeper than the page shows); every level written by its own people, so no level
    finds its authors already loaded."""
    first, second, third = levels
    for n in range(top):
        comment = await create_comment(db, post=post, author=first[n % len(first)])
        for m in range(replies):
            reply = await create_comment(
                db, post=post, author=second[(n + m) % len(second)], parent=comment
            )
            await create_comment(db, post=post, author=third[m % len(third)], parent=reply)


async def post_page_statements(client, sql_log, slug, headers):
    sql_log.clear()
    body = await graphql(client, POST_PAGE, {"slug": slug}, headers=headers)
    assert "errors" not in body
    return body["data"]["post"], len(sql_log.statements())


async def test_a_post_page_runs_the_same_statements_however_many_comments(
    client, db, settings, sql_log
):
    writer, reader = await create_user(db), await create_user(db)
    levels = [[await create_user(db) for _ in range(3)] for _level in range(3)]
    headers = await auth_headers(db, settings, reader)
    small = await create_post(db, author=writer, tags=["a", "b"])
    large = await create_post(db, author=writer, tags=["a", "b"])
    await make_thread(db, small, levels, top=1, replies=1)
    await make_thread(db, large, levels, top=12, replies=4)

    small_page, small_count = await post_page_statements(client, sql_log, small.slug, headers)
    large_page, large_count = await post_page_statements(client, sql_log, large.slug, headers)

    assert small_page["commentCount"] == 3 and large_page["commentCount"] == 12 * 9
    replies = large_page["comments"]["edges"][-1]["node"]["replies"]["edges"]
    assert len(large_page["comments"]["edges"]) == 12 and len(replies) == 4
    assert replies[0]["node"]["author"]["username"]
    print(f"post page: {small_count} and {large_count} statements")
    # The auth check, the post with its author, comment count and tags, then per level of
    # the thread one page of comments with their authors.
    assert small_count == large_count <= 1 + 1 + 2


# An author's page and a tag's page: posts as the feed shows them, under another object.
NESTED_PAGES = """query($username: String!) {
  user(username: $username) { posts(first: 20) { edges { node { ...Card } } } }
  tags { name posts(first: 5) { edges { node { ...Card } } } }
}
fragment Card on Post { title author { username } tags { name } commentCount }"""


async def test_post_pages_under_a_user_or_tag_read_their_cards_in_one_statement(
    client, db, sql_log
):
    readers = await make_feed(db, 20)
    author = (await graphql(client, FEED, {"first": 1}))["data"]["posts"]["edges"][0]
    username = author["node"]["author"]["username"]
    sql_log.clear()

    body = await graphql(client, NESTED_PAGES, {"username": username})

    assert "errors" not in body, body
    users_posts = body["data"]["user"]["posts"]["edges"]
    assert users_posts and all(edge["node"]["commentCount"] == len(readers) for edge in users_posts)
    tagged = [edge for tag in body["data"]["tags"] for edge in tag["posts"]["edges"]]
    assert len(tagged) > len(body["data"]["tags"]) and all(edge["node"]["tags"] for edge in tagged)
    # The user, the user's page of cards; the tags, their pages of cards: with authors,
    # tags and comment counts in the pages' statements.
    assert len(sql_log.statements()) == 4
