"""Batched reads of posts and tags: one statement per batch, visibility checked in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db import Database
from blog_graphql.keyset import (
    AnyRow,
    AnySelect,
    Order,
    count_by_parent,
    fetch_by_id,
    fetch_pages,
)
from blog_graphql.pagination import CursorKey, PageKey
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.models import Post, PostTag, Tag

# What a post card needs; the (possibly 100 kB) body is fetched only where it is asked for.
POST_CARD = (
    Post.id, Post.author_id, Post.title, Post.slug, Post.excerpt, Post.published,
    Post.published_at, Post.feed_at, Post.created_at, Post.updated_at,
)  # fmt: skip
POST_BODY = (Post.content, Post.content_html)
TAG_COLUMNS = (Tag.id, Tag.name, Tag.slug, Tag.color)
# The feed's order: newest first by `feed_at` (published_at, or created_at for drafts).
FEED_ORDER = Order((Post.feed_at, Post.id), descending=True)
FEED_CURSOR = (datetime, int)


def feed_key(row: AnyRow) -> CursorKey:
    """The cursor of a post card in `FEED_ORDER`."""
    return (row.feed_at, row.id)


def post_cards(viewer: User | None) -> AnySelect:
    """Every post the viewer may see, as cards: the start of every post listing."""
    return select(*POST_CARD).where(visible_posts(viewer))


async def load_tags(db: Database, ids: Sequence[int]) -> list[Tag | None]:
    async with db.session() as session:
        rows = await session.scalars(select(Tag).where(Tag.id.in_(ids)))
        by_id = {tag.id: tag for tag in rows}
    return [by_id.get(id_) for id_ in ids]


async def load_posts(db: Database, viewer: User | None, ids: Sequence[int]) -> list[AnyRow | None]:
    """Post cards by id; None where missing or not visible to the viewer."""
    return await fetch_by_id(db, post_cards(viewer).where(Post.id.in_(ids)), ids)


async def load_post_bodies(db: Database, ids: Sequence[int]) -> list[AnyRow | None]:
    """Content and HTML of posts the viewer was already allowed to see (as cards)."""
    return await fetch_by_id(db, select(Post.id, *POST_BODY).where(Post.id.in_(ids)), ids)


async def load_tags_of_posts(db: Database, post_ids: Sequence[int]) -> list[Sequence[AnyRow]]:
    """Each post's tags by name; one statement for every post of the request."""
    query = (
        select(PostTag.post_id, *TAG_COLUMNS)
        .join(Tag, Tag.id == PostTag.tag_id)
        .where(PostTag.post_id.in_(sorted(set(post_ids))))
        .order_by(Tag.name, Tag.id)
    )
    tags: dict[int, list[AnyRow]] = {id_: [] for id_ in post_ids}
    async with db.session() as session:
        for row in await session.execute(query):
            tags[row.post_id].append(row)
    return [tags[id_] for id_ in post_ids]


def _cards_of_tags(viewer: User | None) -> AnySelect:
    return post_cards(viewer).join(PostTag, PostTag.post_id == Post.id)


async def load_posts_of_authors(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`User.posts` pages, newest first, for every user of the request at once."""
    return await fetch_pages(
        db, post_cards(viewer), parent=Post.author_id, order=FEED_ORDER, keys=keys
    )


async def load_posts_of_tags(
    db: Database, viewer: User | None, keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """`Tag.posts` pages, newest first, for every tag of the request at once."""
    return await fetch_pages(
        db, _cards_of_tags(viewer), parent=PostTag.tag_id, order=FEED_ORDER, keys=keys
    )


async def count_posts_of_authors(
    db: Database, viewer: User | None, author_ids: Sequence[int]
) -> list[int]:
    return await count_by_parent(db, post_cards(viewer), Post.author_id, author_ids)


async def count_posts_of_tags(
    db: Database, viewer: User | None, tag_ids: Sequence[int]
) -> list[int]:
    return await count_by_parent(db, _cards_of_tags(viewer), PostTag.tag_id, tag_ids)
