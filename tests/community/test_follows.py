"""Follows: idempotent, counts, viewerIsFollowing, followers and the following feed in
keyset pages, oneself refused."""

from __future__ import annotations

from tests.content.helpers import error_code, error_fields
from tests.factories import create_post, create_user

SHOWN = "{ username followerCount viewerIsFollowing }"
FOLLOW = f"mutation($name: String!) {{ followUser(username: $name) {SHOWN} }}"
UNFOLLOW = f"mutation($name: String!) {{ unfollowUser(username: $name) {SHOWN} }}"
PROFILE = """query($name: String!, $first: Int, $after: String) { user(username: $name) {
  followerCount followingCount viewerIsFollowing
  followers(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { username followerCount } }
  }
} }"""
FOLLOWING_FEED = """query($first: Int, $after: String) {
followingFeed(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { title author { username } } }
} }"""


async def test_following_twice_counts_once_and_unfollowing_undoes_it(call, db):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")

    first = await call(FOLLOW, {"name": "ada"}, user=bob)
    again = await call(FOLLOW, {"name": "ADA"}, user=bob)

    expected = {"username": "ada", "followerCount": 1, "viewerIsFollowing": True}
    assert first["data"]["followUser"] == expected
    assert again["data"]["followUser"] == expected
    ada_seen = (await call(PROFILE, {"name": "ada"}, user=bob))["data"]["user"]
    bob_seen = (await call(PROFILE, {"name": "bob"}))["data"]["user"]
    assert (ada_seen["followerCount"], ada_seen["followingCount"]) == (1, 0)
    assert ada_seen["viewerIsFollowing"] is True
    assert (bob_seen["followerCount"], bob_seen["followingCount"]) == (0, 1)
    assert bob_seen["viewerIsFollowing"] is False  # anonymous
    assert (await call(PROFILE, {"name": "ada"}, user=ada))["data"]["user"][
        "viewerIsFollowing"
    ] is False

    gone = await call(UNFOLLOW, {"name": "ada"}, user=bob)
    gone_again = await call(UNFOLLOW, {"name": "ada"}, user=bob)
    nobody = {"username": "ada", "followerCount": 0, "viewerIsFollowing": False}
    assert gone["data"]["unfollowUser"] == nobody
    assert gone_again["data"]["unfollowUser"] == nobody


async def test_following_oneself_or_nobody_is_refused(call, db):
    ada = await create_user(db, username="ada")

    assert error_fields(await call(FOLLOW, {"name": "Ada"}, user=ada)) == {
        "username": "You cannot follow yourself."
    }
    assert error_code(await call(FOLLOW, {"name": "nobody"}, user=ada)) == "NOT_FOUND"
    assert error_code(await call(UNFOLLOW, {"name": "nobody"}, user=ada)) == "NOT_FOUND"
    assert error_code(await call(FOLLOW, {"name": "ada"})) == "UNAUTHENTICATED"
    assert (await call(PROFILE, {"name": "ada"}))["data"]["user"]["followerCount"] == 0


async def test_followers_page_latest_first(call, db):
    await create_user(db, username="star")
    fans = [await create_user(db, username=f"fan{n}") for n in range(5)]
    for fan in (fans[3], fans[0], fans[4], fans[1], fans[2]):
        await call(FOLLOW, {"name": "star"}, user=fan)

    seen: list[str] = []
    after = None
    while True:
        body = await call(PROFILE, {"name": "star", "first": 2, "after": after})
        page = body["data"]["user"]["followers"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["username"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["fan2", "fan1", "fan4", "fan0", "fan3"]
    bad = await call(PROFILE, {"name": "star", "after": "broken"})
    assert error_code(bad) == "BAD_USER_INPUT"


async def test_the_following_feed_is_published_posts_by_followed_authors_newest_first(call, db):
    ada, bob, cy = [await create_user(db, username=name) for name in ("ada", "bob", "cy")]
    reader = await create_user(db, username="reader")
    for n in range(3):
        await create_post(db, author=ada, title=f"ada {n}")
        await create_post(db, author=bob, title=f"bob {n}")
        await create_post(db, author=cy, title=f"cy {n}")
    await create_post(db, author=ada, title="ada draft", published=False)
    await create_post(db, author=reader, title="my own")
    for name in ("ada", "bob"):
        await call(FOLLOW, {"name": name}, user=reader)

    seen: list[str] = []
    after = None
    while True:
        body = await call(FOLLOWING_FEED, {"first": 4, "after": after}, user=reader)
        page = body["data"]["followingFeed"]
        assert page["totalCount"] == 6
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["bob 2", "ada 2", "bob 1", "ada 1", "bob 0", "ada 0"]
    assert error_code(await call(FOLLOWING_FEED)) == "UNAUTHENTICATED"
    nobody_followed = await call(FOLLOWING_FEED, user=ada)
    assert nobody_followed["data"]["followingFeed"]["edges"] == []
