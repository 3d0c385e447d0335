"""Post revisions: the versions an edit replaced (the last 50 a post), read by its author
and admins only."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import ColumnElement, delete, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database, utcnow
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
from blog_graphql.db.statements import VIEWER_ID, Audience, audience_of, viewer_params
from blog_graphql.posts.models import Post, PostRevision
from blog_graphql.relay.pagination import CursorKey, PageKey

KEPT_PER_POST = 50
REVISION_COLUMNS = (
    PostRevision.id, PostRevision.post_id, PostRevision.editor_id, PostRevision.title,
    PostRevision.content, PostRevision.created_at,
)  # fmt: skip
# Newest first; ids grow with time, so the id alone is a total order.
REVISION_ORDER = Order((PostRevision.id,), descending=True)
REVISION_CURSOR = (int,)


def revision_key(row: AnyRow) -> CursorKey:
    return (row.id,)


async def keep_previous(
    session: AsyncSession, post: Post, editor: User, title: str | None, content: str | None
) -> None:
    """Before an edit (in its transaction, the post locked): keep the post's title and
    content as a revision if the edit changes either, and drop all but the newest 50."""
    changes_title = title is not None and title != post.title
    changes_content = content is not None and content != post.content
    if not (changes_title or changes_content):
        return
    session.add(
        PostRevision(
            post_id=post.id, editor_id=editor.id, title=post.title, content=post.content,
            created_at=utcnow(),
        )
    )  # fmt: skip
    await session.flush()
    # The 51st newest and older: one statement, the post's rows found by its index.
    oldest_kept = (
        select(PostRevision.id)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
        .offset(KEPT_PER_POST - 1)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        delete(PostRevision).where(PostRevision.post_id == post.id, PostRevision.id < oldest_kept)
    )


def revisions_visible_to(audience: Audience) -> ColumnElement[bool]:
    """Admins read every revision; a member those of their own posts; anonymous, none."""
    if audience is Audience.ADMIN:
        return true()
    if audience is Audience.ANONYMOUS:
        return false()
    return Post.author_id == VIEWER_ID


def _readable(audience: Audience) -> AnySelect:
    return (
        select(*REVISION_COLUMNS)
        .join(Post, Post.id == PostRevision.post_id)
        .where(revisions_visible_to(audience))
    )


async def load_revisions(
    db: Database, viewer: User | None, ids: Sequence[int]
) -> list[AnyRow | None]:
    """Revisions by id; None where missing or not the viewer's to read."""
    statement = _by_id(audience_of(viewer), db.dialect)
    return await fetch_by_id(db, statement, viewer_params(viewer), ids)


async def load_revisions_of_posts(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Post.revisions` pages, newest first, for every post of the request at once."""
    pages = _pages(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def count_revisions_of_posts(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[int]:
    statement = _counts(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), post_ids)


@cache
def _by_id(audience: Audience, dialect: str) -> AnySelect:
    return by_ids(_readable(audience), PostRevision.id, dialect)


@cache
def _pages(audience: Audience, dialect: str) -> Pages:
    return Pages(_readable(audience), PostRevision.post_id, REVISION_ORDER, dialect)


@cache
def _counts(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(_readable(audience), PostRevision.post_id, dialect)
