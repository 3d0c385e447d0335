"""The notification relay: a fan-out or a digest whose job was lost is done anyway."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from blog_graphql.db.database import utcnow
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.jobs import broker as jobs
from blog_graphql.notifications import relay
from blog_graphql.notifications.models import Notification, NotificationFanout
from blog_graphql.posts.models import Post
from tests.factories import create_comment, create_post
from tests.notifications.helpers import follow, notifications_of
from tests.smtp import Mailbox


async def test_lost_fanouts_and_digests_are_relayed_once_overdue(db, people, settings, smtp_server):
    ada, bob = people["ada"], people["bob"]
    await follow(db, bob, ada)
    post = await create_post(db, author=ada, title="Tides")  # no worker: its jobs are lost
    await create_comment(db, post=post, author=bob, content="first")
    settings = smtp_server.settings(settings, outbox_relay_interval_seconds=3600)
    worker = await asyncio.to_thread(jobs.start_in_process, settings, poll_ms=50)
    try:
        await _relay_what_was_lost(db, people, settings, Mailbox(smtp_server, worker, settings))
    finally:
        await asyncio.to_thread(worker.stop)


async def _relay_what_was_lost(db, people, settings, mailbox) -> None:
    bob = people["bob"]
    post_id = await _only_post_id(db)

    assert await relay.relay_once(db, settings) == 0  # not overdue yet
    long_ago = utcnow() - timedelta(hours=1)
    async with db.transaction() as session:
        await session.execute(update(NotificationFanout).values(next_attempt_at=long_ago))
        await session.execute(
            update(Notification)
            .where(Notification.email_pending_since.is_not(None))
            .values(email_pending_since=long_ago)
        )
    # The fan-out and ada's digest (the worker's own relay, whose first pass may run now,
    # can take either first: the count is not asserted, the outcome is).
    await relay.relay_once(db, settings)
    await mailbox.drain()

    assert await notifications_of(db, bob) == [("NEW_POST_BY_FOLLOWED", post_id, None)]
    [mail] = await mailbox.expect(1)
    assert mail.recipients == ["ada@example.com"]
    assert await relay.relay_once(db, settings) == 0
    async with db.session() as session:
        assert len((await session.scalars(select(OutboxEmail.id))).all()) == 1


async def _only_post_id(db) -> int:
    async with db.session() as session:
        [post_id] = await session.scalars(select(Post.id))
    return int(post_id)
