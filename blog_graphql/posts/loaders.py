"""Batched reads of posts and tags: one statement per batch, visibility checked in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    SQLColumnExpression,
    Subquery,
    Text,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.comments.access import comments_visible_to
from blog_graphql.comments.loaders import live_comment_count
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import (
    PARENTS,
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
from blog_graphql.db.statements import NO_PARAMS, Audience, audience_of, in_list, viewer_params
from blog_graphql.posts.access import posts_visible_to
from blog_graphql.posts.models import Post, PostTag, Tag
from blog_graphql.relay.pagination import CursorKey, PageKey

# What a post card needs; the (possibly 100 kB) body is fetched only where it is asked for.
POST_CARD = (
    Post.id, Post.author_id, Post.title, Post.slug, Post.excerpt, Post.published,
    Post.published_at, Post.feed_at, Post.created_at, Post.updated_at, Post.publish_at,
    Post.reading_time_minutes, Post.seo_title, Post.seo_description, Post.canonical_url,
)  # fmt: skip
POST_BODY = (Post.content, Post.content_html)
TAG_COLUMNS = (Tag.id, Tag.name, Tag.slug, Tag.color)
# The feed's order: newest first by `feed_at` (published_at, or created_at for drafts).
FEED_ORDER = Order((Post.feed_at, Post.id), descending=True)
FEED_CURSOR = (datetime, int)
TAG_LIST = "tag_list"  # the column `tag_list` adds to a post's row


def feed_key(row: AnyRow) -> CursorKey:
    """The cursor of a post card in `FEED_ORDER`."""
    return (row.feed_at, row.id)


def cards_visible_to(audience: Audience) -> AnySelect:
    """Every post a kind of viewer may see, as cards (the viewer's id a parameter): the
    start of every post listing, its (possibly 100 kB) body left out."""
    return select(*POST_CARD).where(posts_visible_to(audience))


def card_parts(
    comments_seen: ColumnElement[bool], dialect: str, post_id: SQLColumnExpression[int] = Post.id
) -> list[ColumnElement[Any]]:
    """What a post card shows beside the post's own columns and its author (`WITH_AUTHOR`),
    as columns of a statement over posts (their ids `post_id`): the comment count, counting
    the comments `comments_seen` lets the viewer see, and the tags. A page of posts reads
    them in its statement where the loaders would read each after it (`Post.from_card`)."""
    return [live_comment_count(comments_seen, post_id), tag_list(dialect, post_id)]


def tag_list(dialect: str, post_id: SQLColumnExpression[int] = Post.id) -> Label[str]:
    """`Post.tags` as a column of a statement over posts (their ids `post_id`): each post's
    tags by name, as the text of a JSON array of `[id, name, slug, color]`, what
    `load_tags_of_posts` reads for the post of each row."""
    tagged = (
        select(*TAG_COLUMNS)
        .join_from(PostTag, Tag, Tag.id == PostTag.tag_id)
        .where(PostTag.post_id == post_id)
        .correlate_except(PostTag, Tag)
    )
    if dialect == "postgresql":
        each = func.json_build_array(*TAG_COLUMNS)
        listed = cast(func.json_agg(aggregate_order_by(each, Tag.name, Tag.id)), Text)
        every = tagged.with_only_columns(func.coalesce(listed, literal_column("'[]'")))
    else:
        # SQLite (3.40) has no ORDER BY inside an aggregate; it keeps a subquery's order
        # for the aggregate over it (a subquery with ORDER BY is never flattened into one).
        ordered = tagged.order_by(Tag.name, Tag.id).subquery()
        every = select(func.json_group_array(func.json_array(*ordered.c)))
    return every.scalar_subquery().label(TAG_LIST)


async def load_tags(db: Database, ids: Sequence[int]) -> list[Tag | None]:
    async with db.session() as session:
        rows = await session.scalars(select(Tag).where(Tag.id.in_(ids)))
        by_id = {tag.id: tag for tag in rows}
    return [by_id.get(id_) for id_ in ids]


async def load_posts(db: Database, viewer: User | None, ids: Sequence[int]) -> list[AnyRow | None]:
    """Post cards by id; None where missing or not visible to the viewer."""
    statement = _cards_by_id(audience_of(viewer), db.dialect)
    return await fetch_by_id(db, statement, viewer_params(viewer), ids)


async def load_post_bodies(db: Database, ids: Sequence[int]) -> list[AnyRow | None]:
    """Content and HTML of posts the viewer was already allowed to see (as cards)."""
    return await fetch_by_id(db, _bodies_by_id(db.dialect), NO_PARAMS, ids)


async def load_tags_of_posts(db: Database, post_ids: Sequence[int]) -> list[Sequence[AnyRow]]:
    """Each post's tags by name; one statement for every post of the request."""
    tags: dict[int, list[AnyRow]] = {id_: [] for id_ in post_ids}
    parents = {PARENTS: sorted(set(post_ids))}
    for row in await db.read(_tags_of_posts(db.dialect), parents):
        tags[row.post_id].append(row)
    return [tags[id_] for id_ in post_ids]


async def load_posts_of_authors(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`User.posts` pages, newest first, for every user of the request at once."""
    pages = _posts_of_authors(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def load_posts_of_tags(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Tag.posts` pages, newest first, for every tag of the request at once."""
    pages = _posts_of_tags(audience_of(viewer), db.dialect)
    return await fetch_pages(db, pages, viewer_params(viewer), keys)


async def count_posts_of_authors(
    db: Database, viewer: User | None, author_ids: Sequence[int]
) -> list[int]:
    statement = _post_counts_of_authors(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), author_ids)


async def count_posts_of_tags(
    db: Database, viewer: User | None, tag_ids: Sequence[int]
) -> list[int]:
    statement = _post_counts_of_tags(audience_of(viewer), db.dialect)
    return await count_by_parent(db, statement, viewer_params(viewer), tag_ids)


# The statements, each built once per audience and dialect (see blog_graphql.statements).


@cache
def _cards_by_id(audience: Audience, dialect: str) -> AnySelect:
    return by_ids(cards_visible_to(audience), Post.id, dialect)


@cache
def _bodies_by_id(dialect: str) -> AnySelect:
    return by_ids(select(Post.id, *POST_BODY), Post.id, dialect)


@cache
def _tags_of_posts(dialect: str) -> AnySelect:
    return (
        select(PostTag.post_id, *TAG_COLUMNS)
        .join(Tag, Tag.id == PostTag.tag_id)
        .where(in_list(PostTag.post_id, PARENTS, dialect))
        .order_by(Tag.name, Tag.id)
    )


def _cards_of_tags(audience: Audience) -> AnySelect:
    return cards_visible_to(audience).join(PostTag, PostTag.post_id == Post.id)


@cache
def _posts_of_authors(audience: Audience, dialect: str) -> Pages:
    return _card_pages(cards_visible_to(audience), Post.author_id, audience, dialect)


@cache
def _posts_of_tags(audience: Audience, dialect: str) -> Pages:
    return _card_pages(_cards_of_tags(audience), PostTag.tag_id, audience, dialect)


def _card_pages(
    cards: AnySelect, parent: SQLColumnExpression[int], audience: Audience, dialect: str
) -> Pages:
    """Pages of post cards, newest first, each with its author and `card_parts`."""

    def parts(numbered: Subquery) -> list[ColumnElement[Any]]:
        return card_parts(comments_visible_to(audience), dialect, numbered.c.id)

    return Pages(cards, parent, FEED_ORDER, dialect, along=WITH_AUTHOR, adding=parts)


@cache
def _post_counts_of_authors(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(cards_visible_to(audience), Post.author_id, dialect)


@cache
def _post_counts_of_tags(audience: Audience, dialect: str) -> AnySelect:
    return counts_by(_cards_of_tags(audience), PostTag.tag_id, dialect)
