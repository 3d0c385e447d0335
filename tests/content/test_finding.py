"""Finding things: `tag(slug:)`, backward pages (`last`/`before`) on every connection,
keyset both ways, and search as you type (the last word also matches as a prefix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blog_graphql.posts.search import fts5_query, tsquery_text
from tests.content.helpers import error_fields
from tests.content.test_feed_pages import insert_post
from tests.factories import create_comment, create_post, create_user

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = """pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { %s } }"""
POSTS = """query($first: Int, $after: String, $last: Int, $before: String, $q: String) {
  posts(first: $first, after: $after, last: $last, before: $before, filter: {search: $q}) {
    totalCount %s } }""" % (PAGE % "title")


def page_of(body, *path):
    assert "errors" not in body, body
    value = body["data"]
    for key in path:
        value = value[key]
    return value


async def walk_backward(fetch, size):
    """Every item, read from the end with `last: size` and `before`, checking pageInfo."""
    seen: list[dict[str, str]] = []
    before, pages = None, 0
    while True:
        page = await fetch(last=size, before=before)
        info, edges = page["pageInfo"], page["edges"]
        assert info["hasNextPage"] is (before is not None)
        assert len(edges) <= size
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        seen = [edge["node"] for edge in edges] + seen
        pages += 1
        if not info["hasPreviousPage"]:
            return seen, pages
        before = info["startCursor"]


async def test_posts_page_backwards_from_the_end_in_the_same_order(call, db):
    ada = await create_user(db)
    for n in range(7):
        await insert_post(db, ada, f"p{n}", at=EPOCH + timedelta(minutes=n // 2))  # ties too

    async def fetch(**variables):
        return page_of(await call(POSTS, variables), "posts")

    forward = [edge["node"] for edge in (await fetch(first=100))["edges"]]
    assert [node["title"] for node in forward] == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]
    backward, pages = await walk_backward(fetch, 3)
    assert backward == forward and pages == 3
    last_two = await fetch(last=2)
    assert [edge["node"]["title"] for edge in last_two["edges"]] == ["p1", "p0"]
    assert last_two["pageInfo"]["hasPreviousPage"] is True
    assert last_two["pageInfo"]["hasNextPage"] is False
    assert last_two["totalCount"] == 7


async def test_before_a_forward_pages_start_is_the_page_before_it(call, db):
    ada = await create_user(db)
    for n in range(6):
        await insert_post(db, ada, f"p{n}", at=EPOCH + timedelta(minutes=n))
    first = page_of(await call(POSTS, {"first": 2}), "posts")
    second = page_of(
        await call(POSTS, {"first": 2, "after": first["pageInfo"]["endCursor"]}), "posts"
    )
    back = page_of(
        await call(POSTS, {"last": 2, "before": second["pageInfo"]["startCursor"]}), "posts"
    )
    assert [e["node"]["title"] for e in back["edges"]] == ["p5", "p4"]
    assert back["pageInfo"]["hasPreviousPage"] is False and back["pageInfo"]["hasNextPage"] is True
    assert [e["cursor"] for e in back["edges"]] == [e["cursor"] for e in first["edges"]]


async def test_search_results_page_backwards_too(call, db):
    ada = await create_user(db)
    for n in range(5):
        await create_post(db, author=ada, title=f"Python {n}", content="python " * (n + 1))

    async def fetch(**variables):
        return page_of(await call(POSTS, {"q": "python", **variables}), "posts")

    forward = [edge["node"] for edge in (await fetch(first=100))["edges"]]
    assert len(forward) == 5
    backward, _pages = await walk_backward(fetch, 2)
    assert backward == forward


@pytest.mark.parametrize(
    ("variables", "fields"),
    [
        ({"first": 2, "last": 2}, {"last": "Use either first or last, not both."}),
        ({"after": "x", "before": "y"}, {"before": "Use either after or before, not both."}),
        ({"last": 101}, {"last": "Use a number from 0 to 100."}),
        ({"last": -1}, {"last": "Use a number from 0 to 100."}),
        ({"before": "not-a-cursor"}, {"before": "Malformed cursor."}),
        ({"first": 2, "before": "x"}, {"first": "Use last with before."}),
        ({"last": 2, "after": "x"}, {"after": "Use after with first, before with last."}),
    ],
)
async def test_mixed_or_bad_backward_arguments_are_bad_user_input(call, db, variables, fields):
    assert error_fields(await call(POSTS, variables)) == fields


NESTED = {
    "Tag.posts": ("""query($slug: String!, $last: Int, $before: String) { tag(slug: $slug) {
      posts(last: $last, before: $before) { %s } } }""" % (PAGE % "title"), ("tag", "posts")),
    "User.posts": ("""query($u: String!, $last: Int, $before: String) { user(username: $u) {
      posts(last: $last, before: $before) { %s } } }""" % (PAGE % "title"), ("user", "posts")),
    "Post.comments": ("""query($s: String!, $last: Int, $before: String) { post(slug: $s) {
      comments(last: $last, before: $before) { %s } } }""" % (PAGE % "content"),
        ("post", "comments")),
    "Comment.replies": ("""query($s: String!, $last: Int, $before: String) { post(slug: $s) {
      comments(first: 1) { edges { node { replies(last: $last, before: $before) { %s } } } } } }"""
        % (PAGE % "content"), ("post", "comments", "edges", 0, "node", "replies")),
}  # fmt: skip


@pytest.mark.parametrize("connection", list(NESTED))
async def test_every_nested_connection_pages_backwards(call, db, connection):
    ada = await create_user(db, username="ada")
    posts = [await create_post(db, author=ada, title=f"t{n}", tags=["Go"]) for n in range(5)]
    post = posts[0]
    root = await create_comment(db, post=post, author=ada, content="root")
    for n in range(5):
        if n < 4:
            await create_comment(db, post=post, author=ada, content=f"c{n}")
        await create_comment(db, post=post, author=ada, content=f"r{n}", parent=root)
    query, path = NESTED[connection]
    variables = {"slug": "go", "u": "ada", "s": post.slug}

    async def fetch(**paging):
        return page_of(await call(query, {**variables, **paging}), *path)

    everything = await fetch(last=100)
    assert everything["pageInfo"]["hasPreviousPage"] is False
    expected = [edge["node"] for edge in everything["edges"]]
    assert len(expected) == 5
    backward, pages = await walk_backward(fetch, 2)
    assert backward == expected and pages == 3
    assert error_fields(await call(query, {**variables, "last": 101})) == {
        "last": "Use a number from 0 to 100."
    }


async def test_nested_connections_reject_first_with_last(call, db):
    ada = await create_user(db, username="ada")
    await create_post(db, author=ada)
    query = """{ user(username: "ada") { posts(first: 1, last: 1) { totalCount } } }"""
    assert error_fields(await call(query)) == {"last": "Use either first or last, not both."}


async def test_users_page_backwards_for_admins(call, db):
    admin = await create_user(db, username="root", is_admin=True)
    for n in range(4):
        await create_user(db, username=f"user{n}")
    query = """query($last: Int, $before: String) { users(last: $last, before: $before) {
      %s } }""" % (PAGE % "username")

    async def fetch(**paging):
        return page_of(await call(query, paging, user=admin), "users")

    backward, pages = await walk_backward(fetch, 2)
    assert [node["username"] for node in backward] == ["root", "user0", "user1", "user2", "user3"]
    assert pages == 3


TAG = """query($slug: String!) { tag(slug: $slug) { name slug color posts { totalCount } } }"""


async def test_tag_by_slug_ignoring_case_and_null_when_missing(call, db):
    ada = await create_user(db)
    await create_post(db, author=ada, tags=["Machine Learning"])
    body = await call(TAG, {"slug": "Machine-Learning"})
    assert body["data"]["tag"]["name"] == "Machine Learning"
    assert body["data"]["tag"]["slug"] == "machine-learning"
    assert body["data"]["tag"]["posts"]["totalCount"] == 1
    assert (await call(TAG, {"slug": "nothing-here"}))["data"]["tag"] is None
    assert (await call(TAG, {"slug": ""}))["data"]["tag"] is None


async def test_a_tag_filing_only_drafts_is_null_to_others(call, db):
    ada = await create_user(db)
    await create_post(db, author=ada, tags=["Secret"], published=False)
    assert (await call(TAG, {"slug": "secret"}))["data"]["tag"] is None
    mine = await call(TAG, {"slug": "secret"}, user=ada)
    assert mine["data"]["tag"]["posts"]["totalCount"] == 1


SEARCH = """query($q: String) { posts(first: 50, filter: {search: $q}) {
  totalCount edges { node { title } } } }"""


async def found(call, q):
    posts = page_of(await call(SEARCH, {"q": q}), "posts")
    assert posts["totalCount"] == len(posts["edges"])
    return sorted(edge["node"]["title"] for edge in posts["edges"])


async def test_the_last_word_also_matches_as_a_prefix(call, db):
    ada = await create_user(db)
    await create_post(db, author=ada, title="Python packaging", content="Wheels and sdists.")
    await create_post(db, author=ada, title="Programming in Go", content="Goroutines.")
    await create_post(db, author=ada, title="Gardening", content="Roses and running water.")
    assert await found(call, "pyth") == ["Python packaging"]
    assert await found(call, "p") == ["Programming in Go", "Python packaging"]
    assert await found(call, "Python pack") == ["Python packaging"]
    assert await found(call, "goroutine") == ["Programming in Go"]  # stemmed, then a prefix
    assert await found(call, "garde") == ["Gardening"]
    # Only the last word: an earlier one still has to match whole.
    assert await found(call, "pyth packaging") == []
    # An excluded word and a closed phrase are whole words, not prefixes.
    assert await found(call, "python -pack") == ["Python packaging"]
    assert await found(call, '"python pack"') == []
    assert await found(call, '"python pack') == ["Python packaging"]
    assert await found(call, "garden or pyth") == ["Gardening", "Python packaging"]


@pytest.mark.parametrize("text", ["a:b*", "x' | y", "!(", "p:*", "'", "\\", "(((", "a & b"])
async def test_query_syntax_stays_data_in_a_prefix_search(call, db, text):
    ada = await create_user(db)
    await create_post(db, author=ada, title="Plain")
    posts = page_of(await call(SEARCH, {"q": text}), "posts")
    assert posts["totalCount"] == len(posts["edges"])


def test_the_search_expressions_quote_every_word():
    assert fts5_query("python asy") == '"python" AND "asy" *'
    assert fts5_query('"exact phrase" or other -not') == '"exact phrase" OR "other" NOT "not"'
    assert tsquery_text("python asy") == "('python') & ('asy':*)"
    assert tsquery_text('"hello wor') == "('hello' <-> 'wor':*)"
    assert tsquery_text("it's") == "('it' <-> 's':*)"
    assert tsquery_text("-alone") == "!('alone')"
    assert tsquery_text("!!! ???") is None and fts5_query("!!! ???") is None
