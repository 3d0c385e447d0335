"""Making notifications inside the transaction of what they are about.

A visible comment notifies (in its own transaction, so the notifications commit with
it, or not at all): the post's author, the author of the comment it answers, and the
users it mentions (`comments.mentions.MAX_MENTIONS` at most). Each recipient gets one
notification per comment, the most specific kind (a reply, then a mention, then a
comment on their post); never its own author; only a recipient who may read the post.
A post going live queues a fan-out to its author's followers (`fanout.py`), done by a
worker. After commit, the new notifications go live and their emails are scheduled.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.comments.mentions import mentioned_usernames
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import after_commit, utcnow
from blog_graphql.notifications import delivery
from blog_graphql.notifications.kinds import (
    COMMENT_ON_YOUR_POST,
    MENTION,
    REPLY_TO_YOUR_COMMENT,
    comment_subject,
)
from blog_graphql.notifications.models import Notification, NotificationFanout
from blog_graphql.notifications.preferences import allows, preferences_of
from blog_graphql.posts.models import Post

# A fan-out not started within this time after commit (its job was lost) is relayed.
FANOUT_HANDOVER_GRACE_SECONDS = 30


async def on_comment_visible(session: AsyncSession, comment: Comment) -> list[Notification]:
    """Notify whom a comment concerns, now that it is approved (once per recipient)."""
    post = (
        await session.execute(
            select(Post.author_id, Post.published).where(Post.id == comment.post_id)
        )
    ).one()
    kinds = await _kinds_by_recipient(session, comment, post.author_id)
    users = await _readers(session, set(kinds), post.author_id, post.published)
    subject = comment_subject(comment.id)
    done = set(
        await session.scalars(
            select(Notification.recipient_id).where(
                Notification.subject_key == subject, Notification.recipient_id.in_(users)
            )
        )
    )
    preferences = await preferences_of(session, users)
    now = utcnow()
    made = [
        Notification(
            recipient_id=user_id,
            kind=kinds[user_id],
            actor_id=comment.author_id,
            post_id=comment.post_id,
            comment_id=comment.id,
            subject_key=subject,
            created_at=now,
            email_pending_since=now if allows(preferences[user_id], kinds[user_id]) else None,
        )
        for user_id in sorted(users - done)
    ]
    session.add_all(made)
    await session.flush()
    created = [
        delivery.Created(n.id, n.recipient_id, n.email_pending_since is not None) for n in made
    ]
    after_commit(session, partial(delivery.announce, None, created))
    return made


async def _kinds_by_recipient(
    session: AsyncSession, comment: Comment, post_author_id: int
) -> dict[int, str]:
    kinds: dict[int, str] = {}
    if comment.parent_id is not None:
        parent_author = await session.scalar(
            select(Comment.author_id).where(Comment.id == comment.parent_id)
        )
        if parent_author is not None:
            kinds[parent_author] = REPLY_TO_YOUR_COMMENT
    names = mentioned_usernames(comment.content)
    if names:
        query = select(User.id).where(func.lower(User.username).in_(names))
        for user_id in await session.scalars(query):
            kinds.setdefault(user_id, MENTION)
    kinds.setdefault(post_author_id, COMMENT_ON_YOUR_POST)
    kinds.pop(comment.author_id, None)  # never to yourself
    return kinds


async def _readers(
    session: AsyncSession, ids: set[int], post_author_id: int, published: bool
) -> set[int]:
    """Those of `ids` with an active account who may read the post (a draft: its author
    and admins)."""
    if not ids:
        return set()
    rows = await session.execute(
        select(User.id, User.is_admin).where(User.id.in_(ids), User.is_active.is_(True))
    )
    return {
        user_id for user_id, is_admin in rows if published or is_admin or user_id == post_author_id
    }


def on_post_change(session: AsyncSession, kind: str, post_id: int) -> None:
    """Called by the post services in their transaction (`posts.service._announce`)."""
    if kind != "published":
        return
    now = utcnow()
    fanout = NotificationFanout(
        post_id=post_id,
        created_at=now,
        next_attempt_at=now + timedelta(seconds=FANOUT_HANDOVER_GRACE_SECONDS),
    )
    session.add(fanout)

    async def hand_over() -> None:
        from blog_graphql.notifications.fanout import hand_over_fanout

        await hand_over_fanout(fanout.id)

    after_commit(session, hand_over)
