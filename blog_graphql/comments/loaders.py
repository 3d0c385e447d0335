"""Batched reads of comments: pages of many threads in one statement, visibility in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, Label, SQLColumnExpression, func, select

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.comments.access import comments_visible_to, visible_comments
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import (
    AnyRow,
    AnySelect,
    Order,
    Pages,
    by_ids,
    count_by_parent,
    counts_by,
    fetch_by_id,
    fetch_pages,
)
from blog_graphql.db.statements import Audience, audience_of, viewer_params
from blog_graphql.posts.models import Post
from blog_graphql.relay.pagination import CursorKey, PageKey

COMMENT_COLUMNS = (
    Comment.id, Comment.post_id, Comment.author_id, Comment.parent_id, Comment.content,
    Comment.is_approved, Comment.deleted_at, Comment.created_at, Comment.updated_at,
)  # fmt: skip
COMMENT_COUNT = "comment_count"  # the column `live_comment_count` adds to a post's row
# Threads read oldest first, so a conversation reads top to bottom.
THREAD_ORDER = Order((Comment.created_at, Comment.id), descending=False)
THREAD_CURSOR = (datetime, int)


def thread_key(row: AnyRow) -> CursorKey:
    """The cursor of a comment in `THREAD_ORDER`."""
    return (row.created_at, row.id)


def visible(viewer: User | None) -> AnySelect:
    """Every comment the viewer may see: the start of every comment read."""
    return select(*COMMENT_COLUMNS).where(visible_comments(viewer))


def visible_to(audience: Audience) -> AnySelect:
    """`visible` for a kind of viewer, its id a parameter: for statements built once."""
    return select(*COMMENT_COLUMNS).where(comments_visible_to(audience))


async def load_comments(
    db: Database, viewer: User | None, ids: Sequence[int]
) -> list[AnyRow | None]:
    """Comments by id; None where missing or not visible to the viewer."""
    statement = _comments_by_id(audience_of(viewer), db.dialect)
    return await fetch_by_id(db, statement, viewer_params(viewer), ids)


async def load_comments_of_posts(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Post.comments` pages (top-level comments) for every post of the request at once."""
    pages = _comments_of_posts(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def load_replies(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Comment.replies` pages for every comment of the request at once."""
    pages = _replies(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def count_comments_of_posts(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[int]:
    """`Post.comments.totalCount`: top-level comments, tombstones included (they are listed)."""
    statement = _comment_totals(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), post_ids)


async def count_replies(db: Database, viewer: User | None, parent_ids: Sequence[int]) -> list[int]:
    statement = _reply_counts(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), parent_ids)


async def count_live_comments(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[int]:
    """`Post.commentCount`: comments and replies at every depth, without tombstones."""
    statement = _live_comment_counts(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), post_ids)


def live_comment_count(
    visible: ColumnElement[bool], post_id: SQLColumnExpression[int] = Post.id
) -> Label[int]:
    """`Post.commentCount` as a column of a statement over posts (their ids `post_id`),
    what `count_live_comments` counts for the post of each row: a page of posts reads it
    with the posts."""
    live = select(func.count()).select_from(Comment)
    counted = live.where(visible, Comment.deleted_at.is_(None), Comment.post_id == post_id)
    return counted.scalar_subquery().label(COMMENT_COUNT)


async def load_comment_with_author(db: Database, comment_id: int) -> tuple[Comment, User] | None:
    """One comment and its author in one statement, whoever asks (live events filter
    per subscriber afterwards); None once it is gone."""
    query = select(Comment, User).join(User, User.id == Comment.author_id)
    async with db.session() as session:
        row = (await session.execute(query.where(Comment.id == comment_id))).first()
    return (row[0], row[1]) if row is not None else None


# Ids bound in one statement of `load_comments_with_authors`: well under any driver's limit.
IDS_PER_STATEMENT = 1000


async def load_comments_with_authors(
    db: Database, comment_ids: Sequence[int]
) -> dict[int, tuple[Comment, User]]:
    """Many comments with their authors, by id, whoever asks (a replay filters them per
    subscriber afterwards); those gone are missing."""
    query = select(Comment, User).join(User, User.id == Comment.author_id)
    found: dict[int, tuple[Comment, User]] = {}
    unique = list(dict.fromkeys(comment_ids))
    async with db.session() as session:
        for start in range(0, len(unique), IDS_PER_STATEMENT):
            batch = unique[start : start + IDS_PER_STATEMENT]
            for comment, author in await session.execute(query.where(Comment.id.in_(batch))):
                found[comment.id] = (comment, author)
    return found


# The statements, each built once per audience and dialect (see blog_graphql.statements).


def _top_level(audience: Audience) -> AnySelect:
    return visible_to(audience).where(Comment.parent_id.is_(None))


@cache
def _comments_by_id(audience: Audience, dialect: str) -> AnySelect:
    return by_ids(visible_to(audience), Comment.id, dialect)


# Pages of comments bring their authors along: no read of users after them.


@cache
def _comments_of_posts(audience: Audience, dialect: str) -> Pages:
    return Pages(_top_level(audience), Comment.post_id, THREAD_ORDER, dialect, WITH_AUTHOR)


@cache
def _replies(audience: Audience, dialect: str) -> Pages:
    return Pages(visible_to(audience), Comment.parent_id, THREAD_ORDER, dialect, WITH_AUTHOR)


@cache
def _comment_totals(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(_top_level(audience), Comment.post_id, dialect)


@cache
def _reply_counts(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(visible_to(audience), Comment.parent_id, dialect)


@cache
def _live_comment_counts(audience: Audience, dialect: str) -> AnySelect:
    live = visible_to(audience).where(Comment.deleted_at.is_(None))
    return counts_by(live, Comment.post_id, dialect)
