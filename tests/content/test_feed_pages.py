"""Relay pages of posts and comments: order, keyset cursors under concurrent inserts,
page-size limits, malformed cursors and filters."""

from datetime import UTC, datetime, timedelta

import pytest

from blog_graphql.posts import service as posts_service
from blog_graphql.posts.models import Post
from blog_graphql.relay.pagination import encode_cursor
from tests.content.helpers import error_code, error_fields
from tests.factories import create_comment, create_post, create_user

FEED = """query($first: Int, $after: String, $filter: PostFilter) {
  posts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { title } } } }"""
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


async def insert_post(db, author, title, *, at, published=True, created=None):
    """A post with exact timestamps, to pin the order down."""
    async with db.transaction() as session:
        session.add(Post(
            author_id=author.id, title=title, slug=title.lower().replace(" ", "-"),
            content="c", content_html="<p>c</p>", excerpt="c", published=published,
            published_at=at if published else None, feed_at=at if published else created,
            created_at=created or at, updated_at=at,
        ))  # fmt: skip


async def feed_titles(call, user=None, **variables):
    body = await call(FEED, variables, user=user)
    assert "errors" not in body, body
    posts = body["data"]["posts"]
    return [edge["node"]["title"] for edge in posts["edges"]], posts


async def test_newest_first_by_published_at_drafts_by_created_at_ties_by_id(call, db):
    ada = await create_user(db)
    await insert_post(db, ada, "old", at=EPOCH)
    await insert_post(db, ada, "tie a", at=EPOCH + timedelta(hours=1))
    await insert_post(db, ada, "tie b", at=EPOCH + timedelta(hours=1))
    await insert_post(db, ada, "draft", at=EPOCH, published=False,
                      created=EPOCH + timedelta(minutes=30))  # fmt: skip
    await insert_post(db, ada, "new", at=EPOCH + timedelta(hours=2))
    titles, _ = await feed_titles(call, user=ada)
    assert titles == ["new", "tie b", "tie a", "draft", "old"]


async def test_walking_every_page_visits_each_post_once(call, db):
    ada = await create_user(db)
    for n in range(7):
        await insert_post(db, ada, f"p{n}", at=EPOCH + timedelta(minutes=n // 2))
    seen, after, pages = [], None, 0
    while True:
        titles, posts = await feed_titles(call, first=3, after=after)
        seen += titles
        pages += 1
        info = posts["pageInfo"]
        assert posts["totalCount"] == 7
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == posts["edges"][0]["cursor"]
        assert info["endCursor"] == posts["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3 and seen == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]


async def test_pages_stay_correct_while_posts_are_inserted(call, db):
    ada = await create_user(db)
    originals = [(await create_post(db, author=ada, title=f"old {n}")).title for n in range(9)]
    draft = await create_post(db, author=ada, title="late draft", published=False)
    seen, after, inserted = [], None, 0
    while True:
        titles, posts = await feed_titles(call, first=2, after=after)
        seen += titles
        # Between every two pages someone writes: new posts and a draft published now all
        # land above the cursor, so an OFFSET page would repeat what was already seen.
        await create_post(db, author=ada, title=f"new {inserted}")
        inserted += 1
        if inserted == 2:
            await posts_service.publish_post(db, ada, draft.id)
        if not posts["pageInfo"]["hasNextPage"]:
            break
        after = posts["pageInfo"]["endCursor"]
    assert seen == originals[::-1]  # none skipped, none twice, still in order
    _all, everything = await feed_titles(call, first=100)
    assert everything["totalCount"] == 9 + inserted + 1


async def test_comment_pages_stay_correct_while_comments_are_added(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    for n in range(5):
        await create_comment(db, post=post, author=ada, content=f"c{n}")
    query = """query($s: String!, $after: String) { post(slug: $s) { comments(first: 2,
      after: $after) { pageInfo { hasNextPage endCursor } edges { node { content } } } } }"""
    seen, after = [], None
    while True:
        body = await call(query, {"s": post.slug, "after": after})
        page = body["data"]["post"]["comments"]
        seen += [edge["node"]["content"] for edge in page["edges"]]
        if len(seen) == 2:
            await create_comment(db, post=post, author=ada, content="late")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["c0", "c1", "c2", "c3", "c4", "late"]  # oldest first: the new one last


@pytest.mark.parametrize("first", [101, -1, -(10**6)])
async def test_first_outside_0_to_100_is_bad_user_input(call, db, first):
    body = await call(FEED, {"first": first})
    assert error_fields(body) == {"first": "Use a number from 0 to 100."}


async def test_first_zero_and_first_100_are_allowed(call, db):
    ada = await create_user(db)
    await create_post(db, author=ada)
    titles, posts = await feed_titles(call, first=0)
    assert titles == [] and posts["pageInfo"]["hasNextPage"] is True
    assert posts["pageInfo"]["endCursor"] is None
    assert len((await feed_titles(call, first=100))[0]) == 1


NESTED = """query($s: String!, $first: Int, $after: String) { post(slug: $s) {
  comments(first: $first, after: $after) { edges { node { content
    replies(after: $after) { edges { node { content } } } } } } } }"""


async def test_nested_pages_check_first_and_after_too(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    await create_comment(db, post=post, author=ada)
    too_many = await call(NESTED, {"s": post.slug, "first": 101})
    assert error_fields(too_many) == {"first": "Use a number from 0 to 100."}
    malformed = await call(NESTED, {"s": post.slug, "after": "not-a-cursor"})
    assert error_fields(malformed) == {"after": "Malformed cursor."}


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "e30=", encode_cursor((1, 2)), encode_cursor((0.5, EPOCH, 1)), "", "%%%"],
)
async def test_a_malformed_cursor_is_bad_user_input(call, db, cursor):
    assert error_fields(await call(FEED, {"after": cursor})) == {"after": "Malformed cursor."}


async def test_a_search_cursor_works_only_with_a_search(call, db):
    ada = await create_user(db)
    for n in range(3):
        await create_post(db, author=ada, title=f"Apple {n}")
    search = {"search": "apple"}
    _titles, posts = await feed_titles(call, first=1, filter=search)
    cursor = posts["pageInfo"]["endCursor"]
    rest, _ = await feed_titles(call, first=5, after=cursor, filter=search)
    assert len(rest) == 2
    assert error_code(await call(FEED, {"after": cursor})) == "BAD_USER_INPUT"


async def test_filters_by_author_tag_and_published(call, db):
    ada, bob = await create_user(db, username="Ada"), await create_user(db, username="bob")
    await create_post(db, author=ada, title="ada python", tags=["Python"])
    await create_post(db, author=ada, title="ada draft", tags=["Python"], published=False)
    await create_post(db, author=bob, title="bob rust", tags=["Rust", "Machine Learning"])

    async def titles(user=None, **post_filter):
        return sorted((await feed_titles(call, user=user, filter=post_filter))[0])

    assert await titles(author="ADA") == ["ada python"]
    assert await titles(ada, author="ada") == ["ada draft", "ada python"]
    assert await titles(ada, author="ada", published=True) == ["ada python"]
    assert await titles(ada, published=False) == ["ada draft"]
    assert await titles(tag="python") == await titles(tag="PYTHON") == ["ada python"]
    assert await titles(tag="machine-learning") == await titles(tag="machine learning")
    assert await titles(tag="Machine Learning") == ["bob rust"]
    assert await titles(tag="rust", author="ada") == []
    assert await titles(author="nobody") == await titles(tag="nothing") == []
    _, posts = await feed_titles(call, filter={"tag": "python"}, user=ada)
    assert posts["totalCount"] == 2


async def test_sibling_pages_with_different_cursors_each_get_their_own_rows(call, db):
    ada = await create_user(db)
    posts = [await create_post(db, author=ada) for _ in range(2)]
    for post in posts:
        for n in range(3):
            await create_comment(db, post=post, author=ada, content=f"{post.id}:{n}")
    page = """query($a: String!, $b: String!, $afterA: String, $afterB: String) {
      a: post(slug: $a) { comments(first: 1, after: $afterA) { pageInfo { endCursor }
        edges { node { content } } } }
      b: post(slug: $b) { comments(first: 2, after: $afterB) { pageInfo { endCursor }
        edges { node { content } } } } }"""
    slugs = {"a": posts[0].slug, "b": posts[1].slug}
    first = (await call(page, slugs))["data"]
    cursors = {"afterA": first["a"]["comments"]["pageInfo"]["endCursor"], "afterB": None}
    second = (await call(page, {**slugs, **cursors}))["data"]
    a, b = posts[0].id, posts[1].id
    assert [e["node"]["content"] for e in second["a"]["comments"]["edges"]] == [f"{a}:1"]
    assert [e["node"]["content"] for e in second["b"]["comments"]["edges"]] == [f"{b}:0", f"{b}:1"]
