"""Scheduled publication: `schedulePost`, and the loop that makes due posts go live.

The row is the truth: a scheduled draft holds `publish_at`. Every serving process and
every worker polls for due rows and claims each with a conditional UPDATE (still
scheduled, and due) in the transaction that publishes it: one claimer's UPDATE matches,
the others' match nothing (PostgreSQL re-checks the condition after the winner commits;
SQLite runs one writer at a time). A crash before the commit rolls the claim back, so the
next poll of any process publishes it: once, whatever restarts in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.errors import InvalidInput
from blog_graphql.observability.outages import OutageLog
from blog_graphql.posts.events import NO_POST_EVENTS, PostEvents
from blog_graphql.posts.models import Post
from blog_graphql.posts.service import _post_to_change, _retry_on_conflict, go_live

MAX_AHEAD = timedelta(days=365)
DUE_BATCH = 100
logger = logging.getLogger("blog_graphql.scheduler")


async def schedule_post(db: Database, user: User, post_id: int, publish_at: datetime) -> Post:
    """For its author or an admin: a draft goes live at `publish_at` (a future time, at
    most a year ahead); scheduling again moves the time."""
    when = publish_at if publish_at.tzinfo is not None else publish_at.replace(tzinfo=UTC)
    now = utcnow()
    if when <= now:
        raise InvalidInput({"publishAt": "Choose a time in the future."})
    if when > now + MAX_AHEAD:
        raise InvalidInput({"publishAt": "Choose a time at most a year ahead."})
    async with db.transaction() as session:
        post = await _post_to_change(session, user, post_id)
        if post.published:
            raise InvalidInput({"id": "The post is already published."})
        post.publish_at, post.updated_at = when, now
    return post


async def unschedule_post(db: Database, user: User, post_id: int) -> Post:
    """Back to a plain draft; a post that was not scheduled stays as it is."""
    async with db.transaction() as session:
        post = await _post_to_change(session, user, post_id)
        if post.publish_at is not None:
            post.publish_at, post.updated_at = None, utcnow()
    return post


async def publish_due_posts(db: Database, events: PostEvents = NO_POST_EVENTS) -> list[int]:
    """Publish every scheduled post whose time has come; the ids this process published."""
    due = select(Post.id).where(Post.published.is_(False), Post.publish_at <= utcnow())
    published: list[int] = []
    while True:
        rows = await db.read(due.order_by(Post.publish_at, Post.id).limit(DUE_BATCH), {})
        for (post_id,) in rows:
            if await publish_if_due(db, post_id, events):
                published.append(post_id)
        if len(rows) < DUE_BATCH:
            return published


async def publish_if_due(db: Database, post_id: int, events: PostEvents) -> bool:
    """Claim the post and publish it in one transaction; False if another process did."""

    async def apply() -> bool:
        async with db.transaction() as session:
            claim = (
                update(Post)
                .where(
                    Post.id == post_id,
                    Post.published.is_(False),
                    Post.publish_at.is_not(None),
                    Post.publish_at <= utcnow(),
                )
                .values(publish_at=None)
                .execution_options(synchronize_session=False)
            )
            claimed = await session.execute(claim)
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            post = await session.scalar(select(Post).where(Post.id == post_id))
            assert post is not None  # the claim just updated it, under its row lock
            await go_live(session, post, events)
        logger.info("scheduled post published", extra={"post_id": post_id})
        return True

    return await _retry_on_conflict(apply)


async def run_scheduler(db: Database, settings: Settings, events: PostEvents) -> None:
    """Publish due posts every SCHEDULER_POLL_SECONDS until cancelled; an outage of the
    database is logged and tried again at the next poll."""
    interval = settings.scheduler_poll_seconds
    outage = OutageLog(logger, "publishing scheduled posts")
    while True:
        try:
            await publish_due_posts(db, events)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            outage.failed(error)
        else:
            outage.succeeded()
        await asyncio.sleep(interval)


@asynccontextmanager
async def scheduler_running(
    db: Database, settings: Settings, events: PostEvents
) -> AsyncIterator[None]:
    """The scheduler loop for the life of the block (an app, a worker)."""
    if not settings.scheduler_enabled:
        yield
        return
    task = asyncio.create_task(run_scheduler(db, settings, events), name="post-scheduler")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=5)
