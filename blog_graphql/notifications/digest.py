"""Notification emails: a recipient's pending notifications, gathered into one email.

Each notification that wants an email starts a job for its recipient. The job waits
(enqueues itself again, delayed) until the recipient's oldest pending notification is
NOTIFICATION_DIGEST_SECONDS old; then it takes every pending notification of that
recipient (those that arrived meanwhile too) and queues one email through the outbox
(which sends it, retries it, and never sends it twice). The other jobs of the same
window find nothing left and send nothing. The worker's own settings decide the window.
Preferences and visibility are read again at send time: an email turned off, a comment
hidden or a post unpublished since is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails import outbox
from blog_graphql.notifications.kinds import (
    COMMENT_ON_YOUR_POST,
    MENTION,
    NEW_POST_BY_FOLLOWED,
    REPLY_TO_YOUR_COMMENT,
)
from blog_graphql.notifications.models import Notification
from blog_graphql.notifications.preferences import allows, preferences_of, unsubscribe_token
from blog_graphql.posts.markdown import shorten
from blog_graphql.posts.models import Post

EXCERPT_LENGTH = 200
# The single-notification emails keep the templates comment emails always had.
SINGLE_TEMPLATES = {
    COMMENT_ON_YOUR_POST: "comment_on_post",
    REPLY_TO_YOUR_COMMENT: "reply_to_comment",
}
# A pending email whose job was lost is sent by the relay this long after its window.
RELAY_GRACE = timedelta(seconds=30)


async def seconds_to_wait(db: Database, settings: Settings, recipient_id: int) -> float:
    """How long until the recipient's oldest pending notification ends its window."""
    async with db.session() as session:
        oldest = await session.scalar(
            select(func.min(Notification.email_pending_since)).where(
                Notification.recipient_id == recipient_id
            )
        )
    if oldest is None:
        return 0.0
    ends = oldest + timedelta(seconds=settings.notification_digest_seconds)
    return max(0.0, (ends - utcnow()).total_seconds())


async def send_digest(db: Database, settings: Settings, recipient_id: int) -> int:
    """Queue one email with the recipient's pending notifications; return how many it holds."""
    async with db.transaction() as session:
        claimed = await _claim_pending(session, recipient_id)
        if not claimed:
            return 0
        recipient = await session.get(User, recipient_id)
        if recipient is None or not recipient.is_active:
            return 0
        preferences = (await preferences_of(session, [recipient_id]))[recipient_id]
        wanted = [item for item in claimed if allows(preferences, item["kind"])]
        items = await _visible_items(session, recipient, wanted)
        if not items:
            return 0
        template, context = _email(recipient, items, settings.public_url)
        context["unsubscribe_token"] = unsubscribe_token(
            settings.secret_key, recipient_id, [item["kind"] for item in items]
        )
        outbox.queue_email(
            session,
            template=template,
            to=recipient.email,
            context=context,
            idempotency_key=f"notifications:{recipient_id}:{items[0]['id']}",
        )
    return len(items)


async def recipients_overdue(db: Database, settings: Settings) -> list[int]:
    """Recipients with pending emails older than the window and a grace (the relay's)."""
    since = utcnow() - timedelta(seconds=settings.notification_digest_seconds) - RELAY_GRACE
    async with db.session() as session:
        rows = await session.scalars(
            select(Notification.recipient_id)
            .where(Notification.email_pending_since <= since)
            .distinct()
            .limit(100)
        )
        return list(rows)


async def _claim_pending(session: AsyncSession, recipient_id: int) -> list[dict[str, Any]]:
    # The conditional update makes one of two racing jobs take each notification.
    result = await session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == recipient_id,
            Notification.email_pending_since.is_not(None),
        )
        .values(email_pending_since=None)
        .returning(
            Notification.id,
            Notification.kind,
            Notification.actor_id,
            Notification.post_id,
            Notification.comment_id,
        )
        .execution_options(synchronize_session=False)
    )
    return sorted((dict(row._mapping) for row in result), key=lambda item: item["id"])


async def _visible_items(
    session: AsyncSession, recipient: User, claimed: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    if not claimed:
        return []
    posts = {
        row.id: row
        for row in await session.execute(
            select(Post.id, Post.title, Post.slug, Post.published, Post.author_id).where(
                Post.id.in_({item["post_id"] for item in claimed})
            )
        )
    }
    comment_ids = {item["comment_id"] for item in claimed if item["comment_id"] is not None}
    comments = {
        row.id: row
        for row in await session.execute(
            select(Comment.id, Comment.content, Comment.is_approved, Comment.deleted_at).where(
                Comment.id.in_(comment_ids)
            )
        )
    }
    actor_rows = await session.execute(
        select(User.id, User.username).where(User.id.in_({item["actor_id"] for item in claimed}))
    )
    actors = {row.id: row.username for row in actor_rows}
    items = []
    for item in claimed:
        post = posts.get(item["post_id"])
        comment = comments.get(item["comment_id"]) if item["comment_id"] else None
        if post is None or item["actor_id"] not in actors:
            continue
        if not (post.published or recipient.is_admin or post.author_id == recipient.id):
            continue
        if item["comment_id"] and (
            comment is None or not comment.is_approved or comment.deleted_at is not None
        ):
            continue
        items.append(
            item
            | {
                "actor": actors[item["actor_id"]],
                "post_title": post.title,
                "post_slug": post.slug,
                "excerpt": shorten(comment.content, EXCERPT_LENGTH) if comment else "",
            }
        )
    return items


def _email(
    recipient: User, items: Sequence[dict[str, Any]], public_url: str
) -> tuple[str, dict[str, Any]]:
    if len(items) == 1 and items[0]["kind"] in SINGLE_TEMPLATES:
        item = items[0]
        who = "replier" if item["kind"] == REPLY_TO_YOUR_COMMENT else "commenter"
        return SINGLE_TEMPLATES[item["kind"]], {
            "username": recipient.username,
            "post_title": item["post_title"],
            "post_slug": item["post_slug"],
            who: item["actor"],
            "comment_excerpt": item["excerpt"],
        }
    headline = _line(items[0]) if len(items) == 1 else f"{len(items)} new notifications"
    return "notification_digest", {
        "username": recipient.username,
        "headline": headline,
        "summary": "\n".join(
            f"- {_line(item)}\n  {public_url}/posts/{quote(item['post_slug'])}" for item in items
        ),
    }


def _line(item: dict[str, Any]) -> str:
    actor, title, excerpt = item["actor"], item["post_title"], item["excerpt"]
    if item["kind"] == NEW_POST_BY_FOLLOWED:
        return f'{actor} published "{title}"'
    what = {
        COMMENT_ON_YOUR_POST: "commented on your post",
        REPLY_TO_YOUR_COMMENT: "replied to your comment on",
        MENTION: "mentioned you on",
    }[item["kind"]]
    return f'{actor} {what} "{title}": {excerpt}'
