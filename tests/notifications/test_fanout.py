"""New posts notify the author's followers through a batched fan-out job, so publishing
costs the same with 10,000 followers as with none."""

from __future__ import annotations

import time

from sqlalchemy import func, insert, select

from blog_graphql.accounts.models import User
from blog_graphql.follows.models import Follow
from blog_graphql.notifications import fanout
from blog_graphql.notifications.models import Notification, NotificationFanout
from tests.content.helpers import post_id
from tests.factories import create_post, create_user, password_hash
from tests.notifications.helpers import UPDATE_PREFERENCES, follow, notifications_of

PUBLISH = "mutation($id: ID!) { publishPost(id: $id) { id published } }"
UNPUBLISH = "mutation($id: ID!) { unpublishPost(id: $id) { id } }"


async def test_publishing_notifies_active_followers_once_and_emails_those_who_opted_in(
    call, db, people, mailbox
):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    gone = await create_user(db, username="gone", is_active=False)
    for follower in (bob, cy, gone):
        await follow(db, follower, ada)
    await call(UPDATE_PREFERENCES, {"input": {"newPostsByFollowed": True}}, user=cy)
    post = await create_post(db, author=ada, title="Tides", published=False)
    assert await notifications_of(db, bob) == []  # a draft notifies nobody

    for query in (PUBLISH, UNPUBLISH, PUBLISH):  # a republication does not notify again
        assert "errors" not in await call(query, {"id": post_id(post)}, user=ada)
        await mailbox.drain()

    for follower in (bob, cy):
        assert await notifications_of(db, follower) == [("NEW_POST_BY_FOLLOWED", post.id, None)]
    assert await notifications_of(db, gone) == await notifications_of(db, ada) == []
    [mail] = await mailbox.expect(1)  # newPostsByFollowed is off by default: cy only
    assert mail.recipients == ["cyd@example.com"] and mail.subject == 'ada published "Tides"'
    assert "http://127.0.0.1:8000/posts/tides" in mail.text
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    async with db.session() as session:
        done = await session.scalars(select(NotificationFanout.done_at))
        assert all(at is not None for at in done)


async def test_a_post_unpublished_before_the_fanout_runs_notifies_nobody(call, db, people):
    ada, bob = people["ada"], people["bob"]
    await follow(db, bob, ada)
    post = await create_post(db, author=ada, published=False)
    await call(PUBLISH, {"id": post_id(post)}, user=ada)  # no worker: the fan-out waits
    await call(UNPUBLISH, {"id": post_id(post)}, user=ada)
    async with db.session() as session:
        [fanout_id] = await session.scalars(select(NotificationFanout.id))
    assert await fanout.run_fanout(db, None, fanout_id) == 0  # type: ignore[arg-type]
    assert await notifications_of(db, bob) == []


async def test_ten_thousand_followers_do_not_slow_publishing(call, db, people, settings):
    ada, quiet = people["ada"], people["bob"]
    await _followers(db, ada, 10_000)
    warm_up = await create_post(db, author=quiet, published=False)
    await call(PUBLISH, {"id": post_id(warm_up)}, user=quiet)  # the first request compiles
    posts = {who: await create_post(db, author=who, published=False) for who in (ada, quiet)}

    timings = {}
    for who, post in posts.items():
        started = time.perf_counter()
        body = await call(PUBLISH, {"id": post_id(post)}, user=who)
        timings[who.username] = time.perf_counter() - started
        assert body["data"]["publishPost"]["published"] is True
    async with db.session() as session:
        fanout_id = await session.scalar(
            select(NotificationFanout.id).where(NotificationFanout.post_id == posts[ada].id)
        )
    started = time.perf_counter()
    made = await fanout.run_fanout(db, settings, fanout_id)
    fanned = time.perf_counter() - started

    print(
        f"\npublishPost: {timings['ada'] * 1000:.1f} ms with 10,000 followers, "
        f"{timings['bob'] * 1000:.1f} ms with none; fan-out job: {fanned:.2f} s"
    )
    assert made == 10_000
    assert timings["ada"] < max(0.5, 3 * timings["bob"])
    assert await fanout.run_fanout(db, settings, fanout_id) == 0  # done: never twice
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(Notification))
    assert count == 10_000


async def _followers(db, followed: User, count: int) -> None:
    hashed = password_hash("Secret123")
    async with db.transaction() as session:
        first = int(await session.scalar(select(func.coalesce(func.max(User.id), 0)))) + 1
        await session.execute(
            insert(User),
            [
                {
                    "username": f"fan{n}",
                    "email": f"fan{n}@example.com",
                    "password_hash": hashed,
                    "is_admin": False,
                    "is_active": True,
                    "email_verified": True,
                }
                for n in range(count)
            ],
        )
        ids = await session.scalars(select(User.id).where(User.id >= first))
        await session.execute(
            insert(Follow), [{"follower_id": id_, "followed_id": followed.id} for id_ in ids]
        )
