"""Reading posts: one by slug, and the feed with its filters, search and keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, partial
from typing import TypeAlias

from sqlalchemy import BindParameter, ColumnElement, Integer, String, bindparam, func, or_, select

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.comments.access import comments_visible_to
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import LIMIT, AnyRow, AnySelect, Order
from blog_graphql.db.statements import Audience, audience_of, viewer_params
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.loaders import (
    FEED_CURSOR,
    FEED_ORDER,
    POST_BODY,
    POST_CARD,
    card_parts,
    cards_visible_to,
    feed_key,
)
from blog_graphql.posts.models import Post, PostTag, Tag
from blog_graphql.posts.search import (
    apply_search,
    check_search,
    on_search_rows,
    search_params,
    searched,
)
from blog_graphql.relay.pagination import CursorKey, Window, page_window

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
class PageArguments:
    """A connection's paging arguments as given (`page_window` checks them)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class PostPage:
    rows: Sequence[AnyRow]  # nearest the cursor first: backward pages come reversed
    key: Callable[[AnyRow], CursorKey]
    count: Callable[[], Awaitable[int]]
    window: Window


async def find_post_by_slug(db: Database, viewer: User | None, slug: str) -> AnyRow | None:
    """The post at `slug` with its body and author; None when missing or not visible to
    the viewer."""
    slug = slug.replace("\x00", "").strip().lower()  # PostgreSQL text cannot hold NUL
    statement = _post_by_slug(audience_of(viewer), db.dialect)
    rows = await db.read(statement, {**viewer_params(viewer), SLUG.key: slug})
    return rows[0] if rows else None  # slugs are unique


@dataclass(frozen=True)
class Readership:
    """Who may read a post now: everyone once published, else its author and admins."""

    published: bool
    author_id: int

    def readable_by(self, viewer: User | None) -> bool:
        return self.published or is_owner_or_admin(viewer, self.author_id)


async def post_readership(db: Database, post_id: int) -> Readership | None:
    """The post's readership, whoever asks (live feeds decide per subscriber); None once
    it is deleted."""
    query = select(Post.published, Post.author_id).where(Post.id == post_id)
    async with db.session() as session:
        row = (await session.execute(query)).first()
    return Readership(published=row.published, author_id=row.author_id) if row else None


async def post_is_visible(db: Database, viewer: User | None, post_id: int) -> bool:
    """Whether the post exists and the viewer may read it (drafts: author and admins)."""
    query = select(Post.id).where(Post.id == post_id, visible_posts(viewer))
    async with db.session() as session:
        return await session.scalar(query) is not None


async def list_posts(
    db: Database, viewer: User | None, post_filter: PostFilter, paging: PageArguments
) -> PostPage:
    """Newest first (by `feed_at`, then id); search results by rank first. Each row brings
    its author's columns, comment count and tags along (`_with_card_parts`). A backward
    page (`last`/`before`) reads the same order reversed."""
    post_filter = _without_nul(post_filter)
    count = partial(count_posts, db, viewer, post_filter)
    search = check_search(post_filter.search or "")
    window = page_window(
        SEARCH_CURSOR if search else FEED_CURSOR,
        first=paging.first,
        after=paging.after,
        last=paging.last,
        before=paging.before,
    )
    cursor, first = window.cursor, window.size
    shape = _FeedShape(
        audience=audience_of(viewer),
        dialect=db.dialect,
        published=post_filter.published,
        by_author=post_filter.author is not None,
        by_tag=post_filter.tag is not None,
        after=cursor is not None,
        searched=bool(search),
        backward=window.backward,
    )
    params = {**viewer_params(viewer), **_filter_params(post_filter), LIMIT: first + 1}
    if cursor is not None:
        params |= FEED_ORDER.cursor_params(cursor)  # by position: a search's too
    if not search:
        rows = await db.read(_feed_page(shape), params)
        return PostPage(rows=rows, key=feed_key, count=count, window=window)
    searching = search_params(db.dialect, search)
    rows = await db.read(_feed_page(shape), params | searching) if searching else []
    return PostPage(rows=rows, key=_search_key, count=count, window=window)


async def count_posts(db: Database, viewer: User | None, post_filter: PostFilter) -> int:
    """`totalCount` of the feed: the same filters and visibility, without the page."""
    everything = select(func.count()).select_from(Post).where(visible_posts(viewer))
    query, rank = _matching(everything, db, post_filter)
    if rank is not None:  # a search: counted from the narrow rows it ranks
        query = on_search_rows(query)
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


# A filter's values, bound in the feed's statements built once.
AUTHOR = bindparam("author", type_=String, required=True)
TAG_NAME = bindparam("tag_name", type_=String, required=True)
TAG_SLUG = bindparam("tag_slug", type_=String, required=True)
SLUG = bindparam("slug", type_=String, required=True)

Text: TypeAlias = str | BindParameter[str]


def _filtered(query: AnySelect, post_filter: PostFilter) -> AnySelect:
    """`query` narrowed by the filter, its values in the statement."""
    post_filter = _without_nul(post_filter)
    tag = post_filter.tag.strip() if post_filter.tag is not None else None
    return _narrowed(
        query,
        published=post_filter.published,
        author=post_filter.author,
        tag_name=tag,
        tag_slug=tag.lower() if tag is not None else None,
    )


def _filter_params(post_filter: PostFilter) -> dict[str, str]:
    """The values of a filter for the parameters of a `_feed_page` statement."""
    params = {}
    if post_filter.author is not None:
        params[AUTHOR.key] = post_filter.author
    if post_filter.tag is not None:
        name = post_filter.tag.strip()
        params[TAG_NAME.key], params[TAG_SLUG.key] = name, name.lower()
    return params


def _narrowed(
    query: AnySelect,
    *,
    published: bool | None,
    author: Text | None,
    tag_name: Text | None,
    tag_slug: Text | None,
) -> AnySelect:
    if published is not None:
        query = query.where(Post.published.is_(published))
    if author is not None:
        author_id = select(User.id).where(func.lower(User.username) == func.lower(author))
        # Never correlated: a page joins its authors' `users` rows (`WITH_AUTHOR`).
        query = query.where(Post.author_id == author_id.correlate(None).scalar_subquery())
    if tag_name is not None:
        tagged = (
            select(PostTag.post_id)
            .join(Tag, Tag.id == PostTag.tag_id)
            .where(or_(Tag.slug == tag_slug, func.lower(Tag.name) == func.lower(tag_name)))
        )
        query = query.where(Post.id.in_(tagged))
    return query


@dataclass(frozen=True)
class _FeedShape:
    """What decides the text of a feed page's statement; the values are its parameters."""

    audience: Audience
    dialect: str
    published: bool | None  # three statements: `published IS true`, `IS false`, neither
    by_author: bool
    by_tag: bool
    after: bool
    searched: bool  # best matches first (`search_params` binds the search)
    backward: bool = False  # `last`/`before`: the order reversed


@cache
def _feed_page(shape: _FeedShape) -> AnySelect:
    """A feed or search page's statement, built once per shape (see
    blog_graphql.statements)."""
    query = _narrowed(
        cards_visible_to(shape.audience),
        published=shape.published,
        author=AUTHOR if shape.by_author else None,
        tag_name=TAG_NAME if shape.by_tag else None,
        tag_slug=TAG_SLUG if shape.by_tag else None,
    )
    order = FEED_ORDER
    if shape.searched:
        return _search_page(query, shape)
    if shape.backward:
        order = order.reversed()
    if shape.after:
        query = query.where(order.after_cursor())
    limit = bindparam(LIMIT, type_=Integer, required=True)
    page = query.order_by(*order.clauses()).limit(limit)
    return _with_card_parts(page, comments_visible_to(shape.audience), shape.dialect)


def _search_page(posts: AnySelect, shape: _FeedShape) -> AnySelect:
    """A search page: every match is ranked to keep the best few, so the few are picked
    first, from the narrow `post_search` rows (id, time, rank), and only they get their
    card's columns and parts: SQLite works out a row's columns before it sorts, so it
    counted the comments and listed the tags of every match. (A window count of the
    matches beside the rank, to answer `totalCount` from the page, cost both databases
    more than counting apart.)"""
    query, rank = searched(posts.with_only_columns(Post.id, Post.feed_at), shape.dialect)
    order = Order((rank, *FEED_ORDER.columns), descending=True)
    if shape.backward:
        order = order.reversed()
    if shape.after:
        query = query.where(order.after_cursor())
    limit = bindparam(LIMIT, type_=Integer, required=True)
    best = on_search_rows(
        query.add_columns(rank.label(RANK)).order_by(*order.clauses()).limit(limit)
    ).subquery("best")
    ranked = Order((best.c[RANK], best.c.feed_at, best.c.id), descending=order.descending)
    cards = (
        select(*POST_CARD, best.c[RANK])
        .join_from(best, Post, Post.id == best.c.id)
        .order_by(*ranked.clauses())
    )
    return _with_card_parts(cards, comments_visible_to(shape.audience), shape.dialect)


@cache
def _post_by_slug(audience: Audience, dialect: str) -> AnySelect:
    """The post with its body, its author's columns, its comment count and its tags."""
    post = cards_visible_to(audience).add_columns(*POST_BODY).where(Post.slug == SLUG)
    return _with_card_parts(post, comments_visible_to(audience), dialect)


def _with_card_parts(
    posts: AnySelect, comments_seen: ColumnElement[bool], dialect: str
) -> AnySelect:
    """Each post with its author's columns (`WITH_AUTHOR`), its comment count (counting
    the comments `comments_seen` lets the viewer see) and its tags: what a card shows, in
    one statement where the loaders would read each after it."""
    return WITH_AUTHOR.joined(
        posts.add_columns(*card_parts(comments_seen, dialect)), Post.author_id
    )


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
