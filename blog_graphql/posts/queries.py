"""Reading posts: one by slug, and the feed with its filters, search and keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, func, or_, select

from blog_graphql.accounts.models import User
from blog_graphql.db import Database
from blog_graphql.keyset import AnyRow, AnySelect, Order, fetch_page
from blog_graphql.pagination import CursorKey, decode_cursor
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.loaders import FEED_CURSOR, FEED_ORDER, POST_BODY, feed_key, post_cards
from blog_graphql.posts.models import Post, PostTag, Tag
from blog_graphql.posts.search import apply_search, check_search

SEARCH_CURSOR = (float, datetime, int)
RANK = "rank"


@dataclass(frozen=True)
class PostFilter:
    """`Query.posts(filter:)`: every given condition must hold."""

    search: str | None = None
    tag: str | None = None
    author: str | None = None
    published: bool | None = None


@dataclass(frozen=True)
class PostPage:
    rows: Sequence[AnyRow]
    key: Callable[[AnyRow], CursorKey]
    count: Callable[[], Awaitable[int]]


async def find_post_by_slug(db: Database, viewer: User | None, slug: str) -> AnyRow | None:
    """The post at `slug` with its body; None when missing or not visible to the viewer."""
    slug = slug.replace("\x00", "").strip().lower()  # PostgreSQL text cannot hold NUL
    query = post_cards(viewer).add_columns(*POST_BODY).where(Post.slug == slug)
    async with db.session() as session:
        return (await session.execute(query)).one_or_none()


async def post_is_visible(db: Database, viewer: User | None, post_id: int) -> bool:
    """Whether the post exists and the viewer may read it (drafts: author and admins)."""
    query = select(Post.id).where(Post.id == post_id, visible_posts(viewer))
    async with db.session() as session:
        return await session.scalar(query) is not None


async def list_posts(
    db: Database, viewer: User | None, post_filter: PostFilter, first: int, after: str | None
) -> PostPage:
    """Newest first (by `feed_at`, then id); search results by rank first."""
    query, rank = _matching(post_cards(viewer), db, post_filter)
    if rank is None:
        order, cursor, key = FEED_ORDER, decode_cursor(after, FEED_CURSOR), feed_key
    else:
        query = query.add_columns(rank.label(RANK))
        order = Order((rank, *FEED_ORDER.columns), descending=True)
        cursor, key = decode_cursor(after, SEARCH_CURSOR), _search_key
    async with db.session() as session:
        rows = await fetch_page(session, query, order, first, cursor)
    return PostPage(rows=rows, key=key, count=partial(count_posts, db, viewer, post_filter))


async def count_posts(db: Database, viewer: User | None, post_filter: PostFilter) -> int:
    """`totalCount` of the feed: the same filters and visibility, without the page."""
    everything = select(func.count()).select_from(Post).where(visible_posts(viewer))
    query, _rank = _matching(everything, db, post_filter)
    async with db.session() as session:
        return int(await session.scalar(query) or 0)


def _matching(
    query: AnySelect, db: Database, post_filter: PostFilter
) -> tuple[AnySelect, ColumnElement[float] | None]:
    """`query` narrowed by the filter, and the search rank when there is a search."""
    query = _filtered(query, post_filter)
    search = check_search(post_filter.search or "")
    if not search:
        return query, None
    return apply_search(query, db.dialect, search)


def _filtered(query: AnySelect, post_filter: PostFilter) -> AnySelect:
    post_filter = _without_nul(post_filter)
    if post_filter.published is not None:
        query = query.where(Post.published.is_(post_filter.published))
    if post_filter.author is not None:
        author = select(User.id).where(func.lower(User.username) == func.lower(post_filter.author))
        query = query.where(Post.author_id == author.scalar_subquery())
    if post_filter.tag is not None:
        name = post_filter.tag.strip()
        tagged = (
            select(PostTag.post_id)
            .join(Tag, Tag.id == PostTag.tag_id)
            .where(or_(Tag.slug == name.lower(), func.lower(Tag.name) == func.lower(name)))
        )
        query = query.where(Post.id.in_(tagged))
    return query


def _search_key(row: AnyRow) -> CursorKey:
    return (getattr(row, RANK), row.feed_at, row.id)


def _without_nul(post_filter: PostFilter) -> PostFilter:
    """PostgreSQL text cannot hold NUL; no tag or username has one, so drop it."""
    tag, author = post_filter.tag, post_filter.author
    return replace(
        post_filter,
        tag=tag.replace("\x00", "") if tag is not None else None,
        author=author.replace("\x00", "") if author is not None else None,
    )
