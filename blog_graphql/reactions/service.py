"""Reacting and taking a reaction back; each use case owns its transaction.

Counts are never stored: they are `COUNT(*)` of the reaction rows, and a reaction is one
row per (subject, kind, user) inserted with ON CONFLICT DO NOTHING, so any number of
concurrent reactions leave exact counts and a repeated one changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Integer, String, delete, exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.comments.access import visible_comments
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database, UTCDateTime, after_commit, utcnow
from blog_graphql.db.upsert import insert_or_ignore
from blog_graphql.errors import NotFound
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.models import Post
from blog_graphql.reactions.kinds import Kind
from blog_graphql.reactions.loaders import ReactionTable, Tally, subject_of, tallies
from blog_graphql.reactions.models import CommentReaction, PostReaction

SubjectType = Literal["Post", "Comment"]
# Told after commit that a post's reactions changed (the live post feed).
OnPostReactions = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class Subject:
    """What is reacted to: a post or a comment, by primary key."""

    type: SubjectType
    pk: int

    @property
    def table(self) -> ReactionTable:
        return PostReaction if self.type == "Post" else CommentReaction

    def visible_to(self, viewer: User) -> ColumnElement[bool]:
        """The subject exists and the viewer may see it (a tombstone is not reactable)."""
        if self.type == "Post":
            return exists().where(Post.id == self.pk, visible_posts(viewer))
        return exists().where(
            Comment.id == self.pk, Comment.deleted_at.is_(None), visible_comments(viewer)
        )


async def react(
    db: Database,
    viewer: User,
    subject: Subject,
    kind: Kind,
    *,
    on_post_reactions: OnPostReactions | None = None,
) -> list[Tally]:
    """Add the viewer's reaction (nothing if it is there); NOT_FOUND if they may not see
    the subject. Returns the subject's counts of every kind."""
    table = subject.table
    # One statement, and the transaction's first: it takes SQLite's write lock at once
    # (no read-then-upgrade that SQLite would refuse under concurrent writers), and checks
    # visibility in the same breath as it inserts.
    values = select(
        literal(subject.pk, Integer),
        literal(kind.value, String),
        literal(viewer.id, Integer),
        literal(utcnow(), UTCDateTime),
    ).where(subject.visible_to(viewer))
    columns = [subject_of(table), table.kind, table.user_id, table.created_at]
    statement = insert_or_ignore(table, db.dialect).from_select(columns, values)
    try:
        async with db.transaction() as session:
            added = (await session.execute(statement)).rowcount  # type: ignore[attr-defined]
            if not added:
                await _ensure_visible(session, viewer, subject)
            elif on_post_reactions is not None:
                _tell_after_commit(session, subject, on_post_reactions)
    except IntegrityError:  # the subject was deleted between the check and the insert
        raise NotFound() from None
    return (await tallies(db, viewer, table, [subject.pk]))[0]


async def unreact(
    db: Database,
    viewer: User,
    subject: Subject,
    kind: Kind,
    *,
    on_post_reactions: OnPostReactions | None = None,
) -> list[Tally]:
    """Take the viewer's reaction back (nothing if there is none); NOT_FOUND if they may
    not see the subject."""
    table = subject.table
    async with db.transaction() as session:
        removed = await session.execute(
            delete(table).where(
                subject_of(table) == subject.pk,
                table.kind == kind.value,
                table.user_id == viewer.id,
            )
        )
        await _ensure_visible(session, viewer, subject)  # else rolled back: nothing changes
        if removed.rowcount and on_post_reactions is not None:  # type: ignore[attr-defined]
            _tell_after_commit(session, subject, on_post_reactions)
    return (await tallies(db, viewer, table, [subject.pk]))[0]


async def _ensure_visible(session: AsyncSession, viewer: User, subject: Subject) -> None:
    if not await session.scalar(select(subject.visible_to(viewer))):
        raise NotFound()


def _tell_after_commit(
    session: AsyncSession, subject: Subject, on_post_reactions: OnPostReactions
) -> None:
    if subject.type != "Post":
        return

    async def tell() -> None:
        await on_post_reactions(subject.pk)

    after_commit(session, tell)
