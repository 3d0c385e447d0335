"""Notifications of comments, replies and mentions, read and marked through the API."""

from __future__ import annotations

from sqlalchemy import delete

from blog_graphql.accounts.models import User
from blog_graphql.comments import service as comments
from blog_graphql.comments.events import NO_EVENTS
from blog_graphql.comments.mentions import MAX_MENTIONS
from blog_graphql.posts.models import Post
from blog_graphql.relay.ids import encode_id
from tests.content.helpers import ADD_COMMENT, error_code, error_fields, post_id
from tests.factories import create_comment, create_post, create_user
from tests.notifications.helpers import (
    MARK_READ,
    NOTIFICATIONS,
    UPDATE_PREFERENCES,
    all_notifications,
    nodes,
    notifications_of,
)


async def test_a_comment_notifies_the_posts_author_with_actor_post_and_comment(call, db, people):
    ada, bob = people["ada"], people["bob"]
    post = await create_post(db, author=ada, title="Tides")
    await create_comment(db, post=post, author=bob, content="Lovely")

    body = await call(NOTIFICATIONS, user=ada)

    [node] = nodes(body)
    assert node["kind"] == "COMMENT_ON_YOUR_POST" and node["read"] is False
    assert node["actor"] == {"username": "bob"} and node["post"] == {"title": "Tides"}
    assert node["comment"]["content"] == "Lovely"
    assert body["data"]["unreadNotificationCount"] == 1
    assert nodes(await call(NOTIFICATIONS, user=bob)) == []  # never to the actor


async def test_a_reply_notifies_the_parent_author_once_and_the_post_author(db, people):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    post = await create_post(db, author=ada)
    parent = await create_comment(db, post=post, author=bob)
    reply = await create_comment(db, post=post, author=cy, parent=parent, content="@bob yes")
    assert await notifications_of(db, bob) == [("REPLY_TO_YOUR_COMMENT", post.id, reply.id)]
    assert await notifications_of(db, ada) == [
        ("COMMENT_ON_YOUR_POST", post.id, parent.id),
        ("COMMENT_ON_YOUR_POST", post.id, reply.id),
    ]
    assert await notifications_of(db, cy) == []


async def test_a_mention_notifies_the_user_and_links_them_in_content_html(call, db, people):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    post = await create_post(db, author=ada)
    body = await call(
        ADD_COMMENT,
        {"input": {"postId": post_id(post), "content": "Ask @CYD or @bob, <b>not</b> me@x.io"}},
        user=bob,
    )
    assert "errors" not in body, body

    [node] = nodes(await call(NOTIFICATIONS, user=cy))
    assert node["kind"] == "MENTION"
    assert node["comment"]["contentHtml"] == (
        '<p>Ask <a href="http://127.0.0.1:8000/users/CYD" class="mention">@CYD</a> or '
        '<a href="http://127.0.0.1:8000/users/bob" class="mention">@bob</a>, '
        "&lt;b&gt;not&lt;/b&gt; me@x.io</p>"
    )
    assert await notifications_of(db, bob) == []  # mentioning yourself notifies nobody


async def test_of_a_thousand_mentions_at_most_ten_users_are_notified(db, people):
    users = [await create_user(db, username=f"reader{n:02d}") for n in range(12)]
    post = await create_post(db, author=people["ada"])
    content = " ".join(f"@{user.username}" for user in users for _ in range(84))[:9_999]
    assert content.count("@") >= 1_000
    await create_comment(db, post=post, author=people["bob"], content=content)
    mentioned = [user for user in users if await notifications_of(db, user)]
    assert mentioned == users[:MAX_MENTIONS]


async def test_a_draft_or_an_unapproved_comment_notifies_nobody_who_may_not_see_it(db, people):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    admin = await create_user(db, username="root", is_admin=True)
    draft = await create_post(db, author=ada, published=False)
    await create_comment(db, post=draft, author=ada, content="note to @bob and @root")
    assert await notifications_of(db, bob) == []
    assert [kind for kind, *_ in await notifications_of(db, admin)] == ["MENTION"]

    post = await create_post(db, author=ada)
    waiting = await create_comment(db, post=post, author=cy, content="@bob", approved=False)
    assert await notifications_of(db, ada) == await notifications_of(db, bob) == []
    for approved in (True, False, True):  # shown, hidden, shown: announced once
        await comments.moderate_comment(db, admin, waiting.id, approved=approved, events=NO_EVENTS)
    assert await notifications_of(db, bob) == [("MENTION", post.id, waiting.id)]
    assert await notifications_of(db, ada) == [("COMMENT_ON_YOUR_POST", post.id, waiting.id)]


async def test_inactive_users_get_no_notification(db, people):
    gone = await create_user(db, username="gone", is_active=False)
    post = await create_post(db, author=gone)
    await create_comment(db, post=post, author=people["bob"], content="hi @gone")
    assert await notifications_of(db, gone) == []


async def test_pages_go_newest_first_and_unread_only_leaves_out_the_read(call, db, people):
    ada, bob = people["ada"], people["bob"]
    post = await create_post(db, author=ada)
    for n in range(5):
        await create_comment(db, post=post, author=bob, content=f"c{n}")
    first = await call(NOTIFICATIONS, {"first": 2}, user=ada)
    page = first["data"]["notifications"]
    assert [n["comment"]["content"] for n in nodes(first)] == ["c4", "c3"]
    assert page["totalCount"] == 5 and page["pageInfo"]["hasNextPage"] is True
    rest = await call(NOTIFICATIONS, {"first": 5, "after": page["pageInfo"]["endCursor"]}, user=ada)
    assert [n["comment"]["content"] for n in nodes(rest)] == ["c2", "c1", "c0"]

    ids = [n["id"] for n in nodes(first)]
    assert (await call(MARK_READ, {"ids": ids}, user=ada))["data"] == {"markNotificationsRead": 2}
    assert (await call(MARK_READ, {"ids": ids}, user=ada))["data"] == {"markNotificationsRead": 0}
    unread = await call(NOTIFICATIONS, {"unreadOnly": True}, user=ada)
    assert [n["comment"]["content"] for n in nodes(unread)] == ["c2", "c1", "c0"]
    assert unread["data"]["unreadNotificationCount"] == 3
    assert (await call(MARK_READ, {"all": True}, user=ada))["data"] == {"markNotificationsRead": 3}
    assert (await call(NOTIFICATIONS, user=ada))["data"]["unreadNotificationCount"] == 0


async def test_someone_elses_notification_ids_change_nothing_and_reveal_nothing(call, db, people):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    post = await create_post(db, author=ada)
    await create_comment(db, post=post, author=bob)
    [theirs] = nodes(await call(NOTIFICATIONS, user=ada))
    missing = encode_id("Notification", 999_999)
    other_type = post_id(post)

    body = await call(MARK_READ, {"ids": [theirs["id"], missing, other_type]}, user=cy)

    assert body == {"data": {"markNotificationsRead": 0}}
    assert nodes(await call(NOTIFICATIONS, user=ada))[0]["read"] is False
    node = await call("query($id: ID!) { node(id: $id) { id } }", {"id": theirs["id"]}, user=cy)
    assert node == {"data": {"node": None}}


async def test_bad_input_to_mark_read(call, people):
    ada = people["ada"]
    assert "ids" in error_fields(await call(MARK_READ, {}, user=ada))
    too_many = [encode_id("Notification", n) for n in range(1, 102)]
    assert "ids" in error_fields(await call(MARK_READ, {"ids": too_many}, user=ada))
    assert "ids" in error_fields(await call(MARK_READ, {"ids": ["nope"]}, user=ada))
    assert "after" in error_fields(await call(NOTIFICATIONS, {"after": "nope"}, user=ada))
    assert "first" in error_fields(await call(NOTIFICATIONS, {"first": 101}, user=ada))


async def test_anonymous_viewers_have_no_notifications(call):
    assert error_code(await call(NOTIFICATIONS)) == "UNAUTHENTICATED"
    assert error_code(await call(MARK_READ, {"all": True})) == "UNAUTHENTICATED"
    change = {"input": {"mentions": False}}
    assert error_code(await call(UPDATE_PREFERENCES, change)) == "UNAUTHENTICATED"


async def test_post_and_comment_are_null_once_the_viewer_may_not_see_them(call, db, people):
    ada, bob = people["ada"], people["bob"]
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=bob)
    comment = await create_comment(db, post=post, author=admin, content="hey @ada")
    await comments.moderate_comment(db, admin, comment.id, approved=False, events=NO_EVENTS)
    async with db.transaction() as session:
        (await session.get(Post, post.id)).published = False

    [node] = nodes(await call(NOTIFICATIONS, user=ada))
    assert node["kind"] == "MENTION" and node["post"] is None and node["comment"] is None
    assert node["actor"] is not None


async def test_deleting_a_comment_post_or_user_removes_the_notifications_on_it(db, people):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    post = await create_post(db, author=ada)
    other = await create_post(db, author=ada)
    gone = await create_comment(db, post=post, author=bob)
    await create_comment(db, post=post, author=cy)
    kept = await create_comment(db, post=other, author=cy)
    await create_comment(db, post=other, author=bob, content="@cyd")
    assert await all_notifications(db) == 5

    await comments.delete_comment(db, bob, gone.id, events=NO_EVENTS)
    assert await all_notifications(db) == 4
    async with db.transaction() as session:
        await session.execute(delete(Post).where(Post.id == post.id))
    assert await all_notifications(db) == 3
    async with db.transaction() as session:
        await session.execute(
            delete(User).where(User.id == bob.id)
        )  # actor of one, with its comment
    assert await notifications_of(db, ada) == [("COMMENT_ON_YOUR_POST", other.id, kept.id)]
    assert await notifications_of(db, cy) == []
    async with db.transaction() as session:
        await session.execute(delete(User).where(User.id == ada.id))  # recipient
    assert await all_notifications(db) == 0


async def test_a_page_reads_actors_posts_and_comments_in_constant_statements(
    call, db, people, sql_log
):
    ada = people["ada"]
    counts = []
    for total in (2, 12):
        while len(await notifications_of(db, ada)) < total:
            author = await create_user(db)
            post = await create_post(db, author=ada)
            await create_comment(db, post=post, author=author)
        sql_log.clear()
        body = await call(NOTIFICATIONS, {"first": 20}, user=ada)
        assert len(nodes(body)) == total
        counts.append(len(sql_log.statements()))
    assert counts[0] == counts[1], counts
