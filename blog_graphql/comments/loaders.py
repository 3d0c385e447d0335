"""Batched reads of comments: pages of many threads in one statement, visibility in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.comments.access import visible_comments
from blog_graphql.comments.models import Comment
from blog_graphql.db import Database
from blog_graphql.keyset import AnyRow, AnySelect, Order, count_by_parent, fetch_by_id, fetch_pages
from blog_graphql.pagination import CursorKey, PageKey

COMMENT_COLUMNS = (
    Comment.id, Comment.post_id, Comment.author_id, Comment.parent_id, Comment.content,
    Comment.is_approved, Comment.deleted_at, Comment.created_at, Comment.updated_at,
)  # fmt: skip
# Threads read oldest first, so a conversation reads top to bottom.
THREAD_ORDER = Order((Comment.created_at, Comment.id), descending=False)
THREAD_CURSOR = (datetime, int)


def thread_key(row: AnyRow) -> CursorKey:
    """The cursor of a comment in `THREAD_ORDER`."""
    return (row.created_at, row.id)


def visible(viewer: User | None) -> AnySelect:
    """Every comment the viewer may see: the start of every comment read."""
    return select(*COMMENT_COLUMNS).where(visible_comments(viewer))


def _top_level(viewer: User | None) -> AnySelect:
    return visible(viewer).where(Comment.parent_id.is_(None))


async def load_comments(
    db: Database, viewer: User | None, ids: Sequence[int]
) -> list[AnyRow | None]:
    """Comments by id; None where missing or not visible to the viewer."""
    return await fetch_by_id(db, visible(viewer).where(Comment.id.in_(ids)), ids)


async def load_comments_of_posts(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Post.comments` pages (top-level comments) for every post of the request at once."""
    return await fetch_pages(
        db, _top_level(viewer), parent=Comment.post_id, order=THREAD_ORDER, keys=keys
    )


async def load_replies(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Comment.replies` pages for every comment of the request at once."""
    return await fetch_pages(
        db, visible(viewer), parent=Comment.parent_id, order=THREAD_ORDER, keys=keys
    )


async def count_comments_of_posts(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[int]:
    """`Post.comments.totalCount`: top-level comments, tombstones included (they are listed)."""
    return await count_by_parent(db, _top_level(viewer), Comment.post_id, post_ids)


async def count_replies(db: Database, viewer: User | None, parent_ids: Sequence[int]) -> list[int]:
    return await count_by_parent(db, visible(viewer), Comment.parent_id, parent_ids)


async def count_live_comments(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[int]:
    """`Post.commentCount`: comments and replies at every depth, without tombstones."""
    live = visible(viewer).where(Comment.deleted_at.is_(None))
    return await count_by_parent(db, live, Comment.post_id, post_ids)


async def load_comment_with_author(db: Database, comment_id: int) -> tuple[Comment, User] | None:
    """One comment and its author in one statement, whoever asks (live events filter
    per subscriber afterwards); None once it is gone."""
    query = select(Comment, User).join(User, User.id == Comment.author_id)
    async with db.session() as session:
        row = (await session.execute(query.where(Comment.id == comment_id))).first()
    return (row[0], row[1]) if row is not None else None
