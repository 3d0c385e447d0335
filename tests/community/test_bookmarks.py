"""Bookmarks: a private reading list, idempotent, in keyset pages, visible posts only."""

from __future__ import annotations

from blog_graphql.relay.ids import encode_id
from tests.content.helpers import error_code, post_id
from tests.factories import create_post, create_user

BOOKMARK = "mutation($id: ID!) { bookmarkPost(postId: $id) { title viewerHasBookmarked } }"
UNBOOKMARK = "mutation($id: ID!) { unbookmarkPost(postId: $id) { title viewerHasBookmarked } }"
LIST = """query($username: String!, $first: Int, $after: String) { user(username: $username) {
  bookmarks(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { title viewerHasBookmarked author { username } commentCount } }
  }
} }"""
FEED_FLAGS = "query { posts(first: 10) { edges { node { title viewerHasBookmarked } } } }"
UNPUBLISH = "mutation($id: ID!) { unpublishPost(id: $id) { published } }"


def titles(body) -> list[str]:
    return [edge["node"]["title"] for edge in body["data"]["user"]["bookmarks"]["edges"]]


async def test_bookmarking_twice_keeps_one_and_the_flag_follows_the_viewer(call, db):
    author, reader = await create_user(db), await create_user(db)
    post = await create_post(db, author=author, title="Saved")
    await create_post(db, author=author, title="Not saved")

    first = await call(BOOKMARK, {"id": post_id(post)}, user=reader)
    again = await call(BOOKMARK, {"id": post_id(post)}, user=reader)

    assert first["data"]["bookmarkPost"] == {"title": "Saved", "viewerHasBookmarked": True}
    assert again["data"]["bookmarkPost"] == {"title": "Saved", "viewerHasBookmarked": True}
    listed = await call(LIST, {"username": reader.username}, user=reader)
    assert listed["data"]["user"]["bookmarks"]["totalCount"] == 1
    flags = {
        edge["node"]["title"]: edge["node"]["viewerHasBookmarked"]
        for edge in (await call(FEED_FLAGS, user=reader))["data"]["posts"]["edges"]
    }
    assert flags == {"Saved": True, "Not saved": False}
    anonymous = (await call(FEED_FLAGS))["data"]["posts"]["edges"]
    assert not any(edge["node"]["viewerHasBookmarked"] for edge in anonymous)

    removed = await call(UNBOOKMARK, {"id": post_id(post)}, user=reader)
    removed_again = await call(UNBOOKMARK, {"id": post_id(post)}, user=reader)
    assert removed["data"]["unbookmarkPost"]["viewerHasBookmarked"] is False
    assert removed_again["data"]["unbookmarkPost"]["viewerHasBookmarked"] is False
    assert titles(await call(LIST, {"username": reader.username}, user=reader)) == []


async def test_the_list_pages_latest_saved_first(call, db):
    author, reader = await create_user(db), await create_user(db)
    posts = [await create_post(db, author=author, title=f"P{n}") for n in range(5)]
    for post in (posts[2], posts[0], posts[4], posts[1], posts[3]):
        await call(BOOKMARK, {"id": post_id(post)}, user=reader)

    seen: list[str] = []
    after = None
    while True:
        body = await call(
            LIST, {"username": reader.username, "first": 2, "after": after}, user=reader
        )
        page = body["data"]["user"]["bookmarks"]
        assert page["totalCount"] == 5
        seen += titles(body)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["P3", "P1", "P4", "P0", "P2"]
    first = (await call(LIST, {"username": reader.username, "first": 1}, user=reader))["data"]
    assert first["user"]["bookmarks"]["edges"][0]["node"]["author"] == {"username": author.username}


async def test_someone_elses_list_reads_as_empty_even_to_admins(call, db):
    author, reader = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=author)
    await call(BOOKMARK, {"id": post_id(post)}, user=reader)

    for viewer in (None, author, admin):
        body = await call(LIST, {"username": reader.username}, user=viewer)
        bookmarks = body["data"]["user"]["bookmarks"]
        assert bookmarks == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        }


async def test_an_invisible_post_cannot_be_saved_and_leaves_the_list_while_hidden(call, db):
    author, reader = await create_user(db), await create_user(db)
    draft = await create_post(db, author=author, published=False)
    post = await create_post(db, author=author, title="Later hidden")
    await call(BOOKMARK, {"id": post_id(post)}, user=reader)

    for target in (post_id(draft), encode_id("Post", 999_999)):
        assert error_code(await call(BOOKMARK, {"id": target}, user=reader)) == "NOT_FOUND"
    assert error_code(await call(BOOKMARK, {"id": post_id(post)})) == "UNAUTHENTICATED"

    await call(UNPUBLISH, {"id": post_id(post)}, user=author)
    hidden = await call(LIST, {"username": reader.username}, user=reader)
    assert titles(hidden) == [] and hidden["data"]["user"]["bookmarks"]["totalCount"] == 0
    assert error_code(await call(UNBOOKMARK, {"id": post_id(post)}, user=reader)) == "NOT_FOUND"
