"""Emails about a new comment: to the post's author, and to the author of the comment it
answers. Queued through the outbox in the comment's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.emails import models as emails
from blog_graphql.emails import outbox
from blog_graphql.posts.markdown import shorten
from blog_graphql.posts.models import Post

COMMENT_ON_POST = "comment_on_post"
REPLY_TO_COMMENT = "reply_to_comment"
EXCERPT_LENGTH = 200


async def queue_comment_notices(session: AsyncSession, comment: Comment) -> None:
    """At most one email per person per comment, never to its own author, and none twice
    (a comment approved, hidden and approved again is announced once)."""
    post = (
        await session.execute(
            select(Post.title, Post.slug, Post.author_id).where(Post.id == comment.post_id)
        )
    ).one()
    templates = await _templates_by_recipient(session, comment, post.author_id)
    if not templates:
        return
    users = await _users(session, {*templates, comment.author_id})
    keys = {user_id: f"comment:{comment.id}:to:{user_id}" for user_id in templates}
    queued = await _already_queued(session, list(keys.values()))
    commenter = users[comment.author_id]
    for user_id, template in templates.items():
        recipient = users.get(user_id)
        if recipient is None or not recipient.is_active or keys[user_id] in queued:
            continue
        outbox.queue_email(
            session,
            template=template,
            to=recipient.email,
            context=_context(template, recipient, commenter, post, comment),
            idempotency_key=keys[user_id],
        )


async def _templates_by_recipient(
    session: AsyncSession, comment: Comment, post_author_id: int
) -> dict[int, str]:
    templates: dict[int, str] = {}
    if comment.parent_id is not None:
        parent_author_id = await session.scalar(
            select(Comment.author_id).where(Comment.id == comment.parent_id)
        )
        if parent_author_id is not None:
            templates[parent_author_id] = REPLY_TO_COMMENT  # the more specific news wins
    templates.setdefault(post_author_id, COMMENT_ON_POST)
    templates.pop(comment.author_id, None)  # never to yourself
    return templates


async def _users(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    return {user.id: user for user in await session.scalars(select(User).where(User.id.in_(ids)))}


async def _already_queued(session: AsyncSession, keys: list[str]) -> set[str]:
    query = select(emails.OutboxEmail.idempotency_key).where(
        emails.OutboxEmail.idempotency_key.in_(keys)
    )
    return set(await session.scalars(query))


def _context(
    template: str, recipient: User, commenter: User, post: Any, comment: Comment
) -> dict[str, Any]:
    who = "replier" if template == REPLY_TO_COMMENT else "commenter"
    return {
        "username": recipient.username,
        "post_title": post.title,
        "post_slug": post.slug,
        who: commenter.username,
        "comment_excerpt": shorten(comment.content, EXCERPT_LENGTH),
    }
