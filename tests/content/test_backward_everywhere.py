"""Backward pages (`last`/`before`) on the connections added in round two: followers,
bookmarks, the following feed, notifications, webhooks and their deliveries, revisions.
Each walked from the end, two at a time, yields what walking from the start does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blog_graphql.bookmarks.models import Bookmark
from blog_graphql.follows.models import Follow
from blog_graphql.notifications import kinds
from blog_graphql.notifications.models import Notification
from blog_graphql.posts.models import PostRevision
from blog_graphql.webhooks.models import Webhook, WebhookDelivery
from tests.content.helpers import error_fields
from tests.content.test_feed_pages import insert_post
from tests.content.test_finding import PAGE, page_of, walk_backward
from tests.factories import create_post, create_user

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS = 5
ARGS = "$first: Int, $after: String, $last: Int, $before: String"
PAGING = "first: $first, after: $after, last: $last, before: $before"


def _at(n: int) -> datetime:
    return EPOCH + timedelta(minutes=n // 2)  # pairs share a timestamp: ties by the id


async def _followers(db, ada, posts):
    fans = [await create_user(db, username=f"fan{n}") for n in range(ITEMS)]
    async with db.transaction() as session:
        for n, fan in enumerate(fans):
            session.add(Follow(follower_id=fan.id, followed_id=ada.id, created_at=_at(n)))


async def _bookmarks(db, ada, posts):
    async with db.transaction() as session:
        for n, post in enumerate(posts):
            session.add(Bookmark(user_id=ada.id, post_id=post.id, created_at=_at(n)))


async def _following_feed(db, ada, posts):
    bob = await create_user(db, username="bob")
    for n in range(ITEMS):
        await insert_post(db, bob, f"feed {n}", at=_at(n))
    async with db.transaction() as session:
        session.add(Follow(follower_id=ada.id, followed_id=bob.id))


async def _notifications(db, ada, posts):
    bob = await create_user(db, username="bob")
    async with db.transaction() as session:
        for post in posts:
            session.add(Notification(recipient_id=ada.id, kind=kinds.NEW_POST_BY_FOLLOWED,
                                     actor_id=bob.id, post_id=post.id,
                                     subject_key=f"post:{post.id}"))  # fmt: skip


async def _webhooks(db, ada, posts):
    async with db.transaction() as session:
        for n in range(ITEMS):
            session.add(Webhook(url=f"https://hooks.example.com/{n}", secret="whsec_x",
                                events=["POST_PUBLISHED"]))  # fmt: skip


async def _deliveries(db, ada, posts):
    async with db.transaction() as session:
        hook = Webhook(url="https://hooks.example.com/", secret="whsec_x", events=[])
        session.add(hook)
        await session.flush()
        for n in range(ITEMS):
            session.add(WebhookDelivery(webhook_id=hook.id, event="POST_PUBLISHED",
                                        message_id=f"msg_{n}", payload="{}"))  # fmt: skip


async def _revisions(db, ada, posts):
    async with db.transaction() as session:
        for n in range(ITEMS):
            session.add(PostRevision(post_id=posts[0].id, editor_id=ada.id, title=f"v{n}",
                                     content="c"))  # fmt: skip


# name: (the query, the path to the connection, the rows it lists)
CONNECTIONS: dict[str, tuple[str, tuple[Any, ...], Any]] = {
    "User.followers": (f"""query({ARGS}) {{ user(username: "ada") {{ followers({PAGING}) {{
      {PAGE % "username"} }} }} }}""", ("user", "followers"), _followers),
    "User.bookmarks": (f"""query({ARGS}) {{ user(username: "ada") {{ bookmarks({PAGING}) {{
      {PAGE % "title"} }} }} }}""", ("user", "bookmarks"), _bookmarks),
    "Query.followingFeed": (f"""query({ARGS}) {{ followingFeed({PAGING}) {{
      {PAGE % "title"} }} }}""", ("followingFeed",), _following_feed),
    "Query.notifications": (f"""query({ARGS}) {{ notifications({PAGING}) {{
      {PAGE % "id"} }} }}""", ("notifications",), _notifications),
    "Query.webhooks": (f"""query({ARGS}) {{ webhooks({PAGING}) {{
      {PAGE % "url"} }} }}""", ("webhooks",), _webhooks),
    "Webhook.deliveries": (f"""query({ARGS}) {{ webhooks(first: 1) {{ edges {{ node {{
      deliveries({PAGING}) {{ {PAGE % "id"} }} }} }} }} }}""",
        ("webhooks", "edges", 0, "node", "deliveries"), _deliveries),
    "Post.revisions": (f"""query({ARGS}) {{ post(slug: "first-post") {{
      revisions({PAGING}) {{ {PAGE % "title"} }} }} }}""", ("post", "revisions"), _revisions),
}  # fmt: skip


async def walk_forward(fetch, size):
    seen: list[dict[str, str]] = []
    after = None
    while True:
        page = await fetch(first=size, after=after)
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        seen += [edge["node"] for edge in page["edges"]]
        if not info["hasNextPage"]:
            return seen
        after = info["endCursor"]


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_round_two_connections_page_backwards_as_forwards(call, db, connection):
    ada = await create_user(db, username="ada", is_admin=True)
    posts = [await create_post(db, author=ada, title="first post")]
    posts += [await create_post(db, author=ada, title=f"post {n}") for n in range(1, ITEMS)]
    query, path, rows = CONNECTIONS[connection]
    await rows(db, ada, posts)

    async def fetch(**paging):
        return page_of(await call(query, paging, user=ada), *path)

    forward = [edge["node"] for edge in (await fetch(first=100))["edges"]]
    assert len(forward) == ITEMS and len({str(node) for node in forward}) == ITEMS
    assert await walk_forward(fetch, 2) == forward
    backward, pages = await walk_backward(fetch, 2)  # each page put before those after it
    assert backward == forward and pages == 3
    last_two = await fetch(last=2)
    assert [edge["node"] for edge in last_two["edges"]] == forward[-2:]
    assert last_two["pageInfo"]["hasPreviousPage"] is True
    assert last_two["pageInfo"]["hasNextPage"] is False
    both = await call(query, {"first": 1, "last": 1}, user=ada)
    assert error_fields(both) == {"last": "Use either first or last, not both."}
    too_many = await call(query, {"last": 101}, user=ada)
    assert error_fields(too_many) == {"last": "Use a number from 0 to 100."}


async def test_someone_elses_bookmarks_page_backwards_as_an_empty_list(call, db):
    ada = await create_user(db, username="ada")
    await create_user(db, username="bob")
    query, path, _rows = CONNECTIONS["User.bookmarks"]
    body = await call(query.replace('"ada"', '"bob"'), {"last": 2, "before": None}, user=ada)
    page = page_of(body, *path)
    assert page["edges"] == []
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["hasNextPage"] is False
