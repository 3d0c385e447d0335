"""Comment use cases: add, edit, delete and moderate; each owns its transaction.

Deleting a comment that has replies keeps a tombstone (`deleted_at` set, content erased)
so the thread stays readable; one without replies is removed, and so is every tombstone
above it that has no replies left. Each use case reports what it committed to the
`events` it is given (in the app, the live feed that publishes to subscribers).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from blog_graphql.accounts.models import User
from blog_graphql.comments import notifications
from blog_graphql.comments.access import visible_comments
from blog_graphql.comments.events import CommentEvents, EventKind
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.errors import Forbidden, InvalidInput, NotFound
from blog_graphql.posts import access as posts_access
from blog_graphql.posts.models import Post
from blog_graphql.webhooks import outbox as webhooks

MAX_COMMENT_LENGTH = 10_000
Moderation = Literal["post", "pre"]


def _announce(
    session: AsyncSession, events: CommentEvents, kind: EventKind, comment: Comment
) -> None:
    """Tell `events` of the change once the transaction committed (never on rollback).

    "added" comes for every new comment, approved or waiting (`is_approved`); "approved"
    when a moderator lets one through, which is when a pre-moderated comment first
    becomes public; for "deleted", `comment` is the row as it was last.
    """

    async def announce() -> None:
        await events.comment_committed(kind, comment)

    after_commit(session, announce)
    webhooks.on_comment_change(session, kind, comment)  # outbox rows, in this transaction


def checked_content(content: str) -> str:
    if "\x00" in content:  # PostgreSQL text cannot hold it; it is never meaningful here
        raise InvalidInput({"content": "Remove the NUL character."})
    text = content.strip()
    if not text or len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput({"content": f"Use 1 to {MAX_COMMENT_LENGTH:,} characters."})
    return text


async def add_comment(
    db: Database,
    author: User,
    *,
    post_id: int,
    content: str,
    parent_id: int | None = None,
    moderation: Moderation = "post",
    events: CommentEvents,
) -> Comment:
    """A comment on a post the viewer may see, or a reply to a comment on it."""
    text = checked_content(content)
    try:
        async with db.transaction() as session:
            await _post_to_comment_on(session, author, post_id)
            if parent_id is not None:
                await _reply_target(session, author, post_id, parent_id)
            now = utcnow()
            comment = Comment(
                post_id=post_id, author_id=author.id, parent_id=parent_id, content=text,
                is_approved=moderation == "post" or author.is_admin,
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(comment)
            await session.flush()
            if comment.is_approved:
                await notifications.queue_comment_notices(session, comment)
            _announce(session, events, "added", comment)
    except IntegrityError:  # the post or parent was deleted while we wrote
        raise NotFound() from None
    return comment


async def update_comment(
    db: Database,
    user: User,
    comment_id: int,
    content: str,
    *,
    moderation: Moderation = "post",
    events: CommentEvents,
) -> Comment:
    """Under pre-moderation an edit by a non-admin sends the comment back to waiting, so
    an approved comment cannot be turned into one no admin has read."""
    text = checked_content(content)
    async with db.transaction() as session:
        comment = await _comment_to_change(session, user, comment_id)
        comment.content = text
        comment.updated_at = utcnow()
        _announce(session, events, "edited", comment)
        if moderation == "pre" and not user.is_admin and comment.is_approved:
            comment.is_approved = False
            _announce(session, events, "hidden", comment)
    return comment


async def delete_comment(
    db: Database, user: User, comment_id: int, *, events: CommentEvents
) -> bool:
    """A tombstone if it has replies; otherwise gone, with tombstones left without replies."""
    async with db.transaction() as session:
        comment = await _comment_to_change(session, user, comment_id)
        if await _has_replies(session, comment.id):
            comment.deleted_at = comment.updated_at = utcnow()
            comment.content = ""
            _announce(session, events, "deleted", comment)
        else:
            await _remove_with_bare_tombstones(session, events, comment)
    return True


async def moderate_comment(
    db: Database, user: User, comment_id: int, *, approved: bool, events: CommentEvents
) -> Comment:
    """Admins show or hide a comment; showing it announces it (once) to whom it concerns."""
    async with db.transaction() as session:
        comment = await _visible_comment(session, user, comment_id)
        if not user.is_admin:
            raise Forbidden()
        if comment.is_approved != approved:
            # Moderation is not an edit: `updated_at` keeps the author's last change.
            await session.execute(
                update(Comment)
                .where(Comment.id == comment.id)
                .values(is_approved=approved, updated_at=Comment.updated_at)
            )
            set_committed_value(comment, "is_approved", approved)
            if approved:
                await notifications.queue_comment_notices(session, comment)
            _announce(session, events, "approved" if approved else "hidden", comment)
    return comment


async def _post_to_comment_on(session: AsyncSession, viewer: User, post_id: int) -> None:
    # FOR SHARE: the post cannot be deleted under the new comment (PostgreSQL).
    query = (
        select(Post.id)
        .where(Post.id == post_id, posts_access.visible_posts(viewer))
        .with_for_update(read=True)
    )
    if await session.scalar(query) is None:
        raise NotFound()


async def _reply_target(session: AsyncSession, viewer: User, post_id: int, parent_id: int) -> None:
    parent = await _visible_comment(session, viewer, parent_id)
    if parent.post_id != post_id:
        raise InvalidInput({"parentId": "Reply to a comment on the same post."})
    if parent.deleted_at is not None:
        raise InvalidInput({"parentId": "That comment was deleted."})


async def _visible_comment(session: AsyncSession, viewer: User, comment_id: int) -> Comment:
    query = (
        select(Comment).where(Comment.id == comment_id, visible_comments(viewer)).with_for_update()
    )
    comment = await session.scalar(query)
    if comment is None:
        raise NotFound()
    return comment


async def _comment_to_change(session: AsyncSession, user: User, comment_id: int) -> Comment:
    """NOT_FOUND if invisible or already deleted; FORBIDDEN if neither theirs nor an admin."""
    comment = await _visible_comment(session, user, comment_id)
    if comment.deleted_at is not None:
        raise NotFound()
    posts_access.ensure_may_change(user, comment.author_id)
    return comment


async def _has_replies(session: AsyncSession, comment_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Comment.parent_id == comment_id))))


async def _remove_with_bare_tombstones(
    session: AsyncSession, events: CommentEvents, comment: Comment
) -> None:
    """Delete `comment`, then each tombstone above it whose last reply that was."""
    removed: Comment | None = comment
    while removed is not None:
        await session.execute(delete(Comment).where(Comment.id == removed.id))
        _announce(session, events, "deleted", removed)
        removed = await _bare_tombstone(session, removed.parent_id)


async def _bare_tombstone(session: AsyncSession, comment_id: int | None) -> Comment | None:
    if comment_id is None:
        return None
    parent = await session.get(Comment, comment_id)
    if parent is None or parent.deleted_at is None or await _has_replies(session, parent.id):
        return None
    return parent
