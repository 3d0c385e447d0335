"""Batched reads of follows: counts, whether the viewer follows, followers' pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import select

from blog_graphql.accounts.loaders import USER_COLUMNS
from blog_graphql.accounts.models import User
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
from blog_graphql.db.statements import NO_PARAMS, VIEWER_ID, in_list, viewer_params
from blog_graphql.follows.models import Follow
from blog_graphql.relay.pagination import CursorKey, PageKey

FOLLOWED_AT = "followed_at"
# Followers, the latest first, ties by the follower's id.
FOLLOWER_ORDER = Order((Follow.created_at, Follow.follower_id), descending=True)
FOLLOWER_CURSOR = (datetime, int)


def follower_key(row: AnyRow) -> CursorKey:
    return (getattr(row, FOLLOWED_AT), row.id)


async def count_followers(db: Database, user_ids: Sequence[int]) -> list[int]:
    return await count_by_parent(db, _follower_counts(db.dialect), NO_PARAMS, user_ids)


async def count_following(db: Database, user_ids: Sequence[int]) -> list[int]:
    return await count_by_parent(db, _following_counts(db.dialect), NO_PARAMS, user_ids)


async def load_viewer_follows(
    db: Database, viewer: User | None, user_ids: Sequence[int]
) -> list[bool]:
    """`User.viewerIsFollowing` for every user of the request: one statement (none when
    signed out)."""
    if viewer is None:
        return [False] * len(user_ids)
    params = {**viewer_params(viewer), PARENTS: sorted(set(user_ids))}
    followed = {row[0] for row in await db.read(_followed_by_viewer(db.dialect), params)}
    return [id_ in followed for id_ in user_ids]


async def load_followers(db: Database, keys: Sequence[PageKey]) -> list[Sequence[AnyRow]]:
    """`User.followers` pages for every user of the request at once."""
    return await fetch_pages(db, _follower_pages(db.dialect), NO_PARAMS, keys)


@cache
def _follower_counts(dialect: str) -> AnySelect:
    return counts_by(select(Follow.followed_id), Follow.followed_id, dialect)


@cache
def _following_counts(dialect: str) -> AnySelect:
    return counts_by(select(Follow.follower_id), Follow.follower_id, dialect)


@cache
def _followed_by_viewer(dialect: str) -> AnySelect:
    return select(Follow.followed_id).where(
        Follow.follower_id == VIEWER_ID, in_list(Follow.followed_id, PARENTS, dialect)
    )


@cache
def _follower_pages(dialect: str) -> Pages:
    followers = select(*USER_COLUMNS, Follow.created_at.label(FOLLOWED_AT)).join(
        Follow, Follow.follower_id == User.id
    )
    return Pages(followers, Follow.followed_id, FOLLOWER_ORDER, dialect)
