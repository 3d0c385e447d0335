"""The webhook outbox: a delivery row per event and matching webhook, in the change's
own transaction, handed to the broker once it committed.

The services call `on_post_change`, `on_comment_change` and `on_user_registered` inside
their transaction. The rows are written just before the commit (a `before_commit` hook),
so `data` holds the subject as it is committed, whatever the service changed after the
call; a rollback writes and sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import after_commit, utcnow
from blog_graphql.jobs import broker as jobs
from blog_graphql.posts.models import Post
from blog_graphql.relay.ids import encode_id
from blog_graphql.webhooks import events as webhook_events
from blog_graphql.webhooks.events import WebhookEvent
from blog_graphql.webhooks.models import PENDING, Webhook, WebhookDelivery

logger = logging.getLogger("blog_graphql.webhooks")

# A committed row is handed over at once, after commit. Should that never happen (the
# process died in between), the relay takes the row once it is overdue by this much.
HANDOVER_GRACE = timedelta(seconds=30)
_KEY = "webhook_events"

Data = Callable[[Session], dict[str, Any]]


@dataclass
class _Pending:
    """The events of one transaction, waiting for its commit."""

    session: AsyncSession
    events: list[tuple[WebhookEvent, Data]] = field(default_factory=list)


def on_post_change(session: AsyncSession, kind: str, post_id: int) -> None:
    """A post was published, unpublished, updated or deleted in `session`'s transaction."""
    if kind in webhook_events.POST_CHANGES:
        # The row as the session holds it now: a deleted post is gone by the commit.
        held = session.sync_session.identity_map.get(identity_key(Post, post_id))
        held_post = held if isinstance(held, Post) else None
        data = partial(_post_data, post_id, held_post)
        _add(session, webhook_events.POST_CHANGES[kind], data)


def on_comment_change(session: AsyncSession, kind: str, comment: Comment) -> None:
    """A comment was added, approved or deleted in `session`'s transaction."""
    if kind in webhook_events.COMMENT_CHANGES:
        _add(session, webhook_events.COMMENT_CHANGES[kind], partial(_comment_data, comment))


def on_user_registered(session: AsyncSession, user: User) -> None:
    _add(session, WebhookEvent.USER_REGISTERED, partial(_user_data, user))


def _add(session: AsyncSession, event_: WebhookEvent, data: Data) -> None:
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        pending = session.info[_KEY] = _Pending(session)
        event.listen(session.sync_session, "before_commit", _write_deliveries, once=True)
    pending.events.append((event_, data))


def _write_deliveries(sync_session: Session) -> None:
    """Before the commit, in its transaction: one delivery per event and active webhook."""
    pending: _Pending = sync_session.info.pop(_KEY)
    hooks = sync_session.execute(select(Webhook.id, Webhook.events).where(Webhook.active)).all()
    deliveries: list[WebhookDelivery] = []
    now = utcnow()
    for event_, data in pending.events:
        targets = [hook_id for hook_id, wanted in hooks if event_.value in wanted]
        if not targets:
            continue
        body = webhook_events.payload(event_, now, data(sync_session))
        deliveries.extend(
            WebhookDelivery(
                webhook_id=hook_id,
                event=event_.value,
                message_id=f"msg_{uuid.uuid4().hex}",
                payload=body,
                status=PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                manual=False,
            )
            for hook_id in targets
        )
    if deliveries:
        sync_session.add_all(deliveries)
        after_commit(pending.session, partial(_hand_over_committed, deliveries))


async def _hand_over_committed(deliveries: Sequence[WebhookDelivery]) -> None:
    await enqueue_all([delivery.id for delivery in deliveries])


async def enqueue_all(delivery_ids: Sequence[int]) -> int:
    """Give each delivery to the broker; how many were. The first failure ends the run:
    the broker is likely down, and the relay hands the rest over later."""
    # Imported here: actor modules load only after the process has chosen its broker.
    from blog_graphql.webhooks.actors import send_webhook

    for position, delivery_id in enumerate(delivery_ids):
        try:
            await jobs.enqueue(send_webhook.message(delivery_id))
        except jobs.NoWorker as reason:
            logger.info("webhook delivery %s waits for the relay: %s", delivery_id, reason)
            return position
        except Exception as error:  # any broker failure: the row waits for the relay
            logger.warning("could not hand webhook delivery %s over: %s", delivery_id, error)
            return position
    return len(delivery_ids)


def _post_data(post_id: int, held: Post | None, session: Session) -> dict[str, Any]:
    post = held or session.get(Post, post_id)  # as of the commit: the same object
    if post is None:
        return {"id": encode_id("Post", post_id)}
    author = session.get(User, post.author_id)
    return {
        "id": encode_id("Post", post.id),
        "title": post.title,
        "slug": post.slug,
        "excerpt": post.excerpt,
        "published": post.published,
        "publishedAt": post.published_at,
        "createdAt": post.created_at,
        "updatedAt": post.updated_at,
        "author": _author(post.author_id, author),
    }


def _comment_data(comment: Comment, _session: Session) -> dict[str, Any]:
    return {
        "id": encode_id("Comment", comment.id),
        "postId": encode_id("Post", comment.post_id),
        "parentId": encode_id("Comment", comment.parent_id) if comment.parent_id else None,
        "authorId": encode_id("User", comment.author_id),
        "content": comment.content,
        "isApproved": comment.is_approved,
        "createdAt": comment.created_at,
        "updatedAt": comment.updated_at,
    }


def _user_data(user: User, _session: Session) -> dict[str, Any]:
    return {
        "id": encode_id("User", user.id),
        "username": user.username,
        "email": user.email,
        "fullName": user.full_name,
        "createdAt": user.created_at,
    }


def _author(author_id: int, author: User | None) -> dict[str, Any]:
    return {"id": encode_id("User", author_id), "username": author.username if author else None}
