"""Batched reads of bookmarks: whether the viewer saved each post, and their list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Subquery, select

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.bookmarks.models import Bookmark
from blog_graphql.comments.access import comments_visible_to
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import (
    PARENTS,
    AnyRow,
    AnySelect,
    Order,
    Pages,
    count_by_parent,
    counts_by,
    fetch_pages,
)
from blog_graphql.db.statements import VIEWER_ID, Audience, audience_of, in_list, viewer_params
from blog_graphql.posts.loaders import card_parts, cards_visible_to
from blog_graphql.posts.models import Post
from blog_graphql.relay.pagination import CursorKey, PageKey

BOOKMARKED_AT = "bookmarked_at"
# A reading list: the latest saved first, ties by post id.
BOOKMARK_ORDER = Order((Bookmark.created_at, Bookmark.post_id), descending=True)
BOOKMARK_CURSOR = (datetime, int)


def bookmark_key(row: AnyRow) -> CursorKey:
    return (getattr(row, BOOKMARKED_AT), row.id)


async def load_bookmarked(db: Database, viewer: User | None, post_ids: Sequence[int]) -> list[bool]:
    """`Post.viewerHasBookmarked` for every post of the request: one statement (none
    when signed out)."""
    if viewer is None:
        return [False] * len(post_ids)
    params = {**viewer_params(viewer), PARENTS: sorted(set(post_ids))}
    saved = {row[0] for row in await db.read(_bookmarked(db.dialect), params)}
    return [id_ in saved for id_ in post_ids]


async def load_bookmark_pages(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`User.bookmarks` pages (posts the viewer may still read), latest saved first."""
    pages = _bookmark_pages(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def count_bookmarks(db: Database, viewer: User | None, user_ids: Sequence[int]) -> list[int]:
    statement = _bookmark_counts(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), user_ids)


@cache
def _bookmarked(dialect: str) -> AnySelect:
    return select(Bookmark.post_id).where(
        Bookmark.user_id == VIEWER_ID, in_list(Bookmark.post_id, PARENTS, dialect)
    )


def _bookmarked_cards(audience: Audience) -> AnySelect:
    return (
        cards_visible_to(audience)
        .add_columns(Bookmark.created_at.label(BOOKMARKED_AT))
        .join(Bookmark, Bookmark.post_id == Post.id)
    )


@cache
def _bookmark_pages(audience: Audience, dialect: str) -> Pages:
    def parts(numbered: Subquery) -> list[ColumnElement[Any]]:
        return card_parts(comments_visible_to(audience), dialect, numbered.c.id)

    cards = _bookmarked_cards(audience)
    return Pages(cards, Bookmark.user_id, BOOKMARK_ORDER, dialect, along=WITH_AUTHOR, adding=parts)


@cache
def _bookmark_counts(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(_bookmarked_cards(audience), Bookmark.user_id, dialect)
