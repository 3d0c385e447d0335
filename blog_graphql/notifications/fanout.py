"""A new post's notifications to its author's followers, made by a worker in pages.

Publishing only writes a `NotificationFanout` row (and hands its id to the broker after
commit), so an author's follower count never slows `publishPost`. The worker then
inserts the notifications a page of followers at a time, one `INSERT ... SELECT` per
page, each page its own short transaction, and announces each page once committed. A
page already done (a redelivered message, a relay hand-over) inserts nothing again: the
unique (recipient, subject) constraint makes each insert idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, case, false, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, UTCDateTime, utcnow
from blog_graphql.follows.models import Follow
from blog_graphql.jobs import broker as jobs
from blog_graphql.notifications import delivery
from blog_graphql.notifications.kinds import NEW_POST_BY_FOLLOWED, post_subject
from blog_graphql.notifications.models import EmailPreference, Notification, NotificationFanout
from blog_graphql.posts.models import Post

logger = logging.getLogger("blog_graphql.notifications")

PAGE_SIZE = 1_000
# A fan-out handed to the broker and not done within this time is handed over again.
CONFIRM_TIMEOUT = timedelta(minutes=10)


async def hand_over_fanout(fanout_id: int) -> bool:
    """Give the fan-out to the broker; False leaves it to the relay."""
    from blog_graphql.notifications.actors import fan_out_new_post

    try:
        await jobs.enqueue(fan_out_new_post.message(fanout_id))
    except jobs.NoWorker:
        return False
    except Exception:
        logger.warning("fan-out %s waits for the relay", fanout_id, exc_info=True)
        return False
    return True


async def run_fanout(db: Database, settings: Settings, fanout_id: int) -> int:
    """Notify every follower of the post's author; return how many notifications it made."""
    async with db.transaction() as session:
        target = await _target(session, fanout_id)
    if target is None:
        return 0
    post_id, author_id = target
    made, after = 0, 0
    while True:
        async with db.transaction() as session:
            upto = await _page_end(session, author_id, after)
            if upto is None:
                break
            created = await _insert_page(session, post_id, author_id, after, upto)
        await delivery.announce(settings, created)
        made, after = made + len(created), upto
    async with db.transaction() as session:
        await session.execute(
            update(NotificationFanout)
            .where(NotificationFanout.id == fanout_id)
            .values(done_at=utcnow(), next_attempt_at=None)
        )
    return made


async def _target(session: AsyncSession, fanout_id: int) -> tuple[int, int] | None:
    """The post and its author, if the fan-out is still to do and the post still public."""
    row = (
        await session.execute(
            select(Post.id, Post.author_id, Post.published)
            .join(NotificationFanout, NotificationFanout.post_id == Post.id)
            .where(NotificationFanout.id == fanout_id, NotificationFanout.done_at.is_(None))
        )
    ).one_or_none()
    if row is None:
        return None
    if not row.published:  # unpublished again before the worker came: nobody to tell
        await session.execute(
            update(NotificationFanout)
            .where(NotificationFanout.id == fanout_id)
            .values(done_at=utcnow(), next_attempt_at=None)
        )
        return None
    return row.id, row.author_id


async def _page_end(session: AsyncSession, author_id: int, after: int) -> int | None:
    """The last follower id of the next page (follower ids above `after`)."""
    page = (
        select(Follow.follower_id)
        .where(Follow.followed_id == author_id, Follow.follower_id > after)
        .order_by(Follow.follower_id)
        .limit(PAGE_SIZE)
        .subquery()
    )
    found: int | None = await session.scalar(select(func.max(page.c.follower_id)))
    return found


async def _insert_page(
    session: AsyncSession, post_id: int, author_id: int, after: int, upto: int
) -> list[delivery.Created]:
    now = literal(utcnow(), UTCDateTime())
    wants_email = func.coalesce(EmailPreference.new_posts_by_followed, false())
    rows = (
        select(
            Follow.follower_id,
            literal(NEW_POST_BY_FOLLOWED),
            literal(author_id),
            literal(post_id),
            literal(post_subject(post_id)),
            now,
            case((wants_email, now), else_=None),
        )
        .join(User, and_(User.id == Follow.follower_id, User.is_active.is_(True)))
        .outerjoin(EmailPreference, EmailPreference.user_id == Follow.follower_id)
        .where(
            Follow.followed_id == author_id,
            Follow.follower_id > after,
            Follow.follower_id <= upto,
        )
    )
    table = Notification.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    columns = ["recipient_id", "kind", "actor_id", "post_id", "subject_key", "created_at"]
    statement = (
        dialect.insert(table)
        .from_select([*columns, "email_pending_since"], rows)
        .on_conflict_do_nothing(index_elements=["recipient_id", "subject_key"])
        .returning(table.c.id, table.c.recipient_id, table.c.email_pending_since)
    )
    result = await session.execute(statement)
    return [
        delivery.Created(id_, recipient, pending is not None) for id_, recipient, pending in result
    ]
