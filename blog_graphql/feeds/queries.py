"""What the feeds and the sitemap list: public posts only, whoever asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnySelect
from blog_graphql.db.statements import Audience
from blog_graphql.posts.access import posts_visible_to
from blog_graphql.posts.models import Post, PostTag, Tag

FEED_SIZE = 20  # the newest public posts a feed lists
PUBLIC = posts_visible_to(Audience.ANONYMOUS)


@dataclass(frozen=True)
class FeedPost:
    slug: str
    title: str
    excerpt: str
    author: str
    published_at: datetime
    updated_at: datetime
    tags: tuple[str, ...]


@dataclass(frozen=True)
class TagInfo:
    slug: str
    name: str


@dataclass(frozen=True)
class SitemapEntry:
    path: str  # under PUBLIC_URL: "/", "/tags/python", "/posts/hello"
    lastmod: datetime | None = None


async def newest_posts(db: Database, tag_id: int | None = None) -> list[FeedPost]:
    """The newest public posts (by publication, then id), with author and tag names."""
    query = (
        select(Post.id, Post.slug, Post.title, Post.excerpt, Post.published_at,
               Post.updated_at, User.username, User.full_name)
        .join(User, User.id == Post.author_id)
        .where(PUBLIC)
        .order_by(Post.feed_at.desc(), Post.id.desc())
        .limit(FEED_SIZE)
    )  # fmt: skip
    if tag_id is not None:
        query = query.where(Post.id.in_(select(PostTag.post_id).where(PostTag.tag_id == tag_id)))
    rows = await db.read(query, {})
    tags = await _tag_names(db, [row.id for row in rows])
    return [
        FeedPost(
            slug=row.slug,
            title=row.title,
            excerpt=row.excerpt,
            author=row.full_name or row.username,
            published_at=row.published_at or row.updated_at,
            updated_at=row.updated_at,
            tags=tuple(tags.get(row.id, ())),
        )
        for row in rows
    ]


async def _tag_names(db: Database, post_ids: Sequence[int]) -> dict[int, list[str]]:
    if not post_ids:
        return {}
    query = (
        select(PostTag.post_id, Tag.name)
        .join(Tag, Tag.id == PostTag.tag_id)
        .where(PostTag.post_id.in_(post_ids))
        .order_by(Tag.name)
    )
    found: dict[int, list[str]] = {}
    for row in await db.read(query, {}):
        found.setdefault(row.post_id, []).append(row.name)
    return found


async def find_tag(db: Database, slug: str) -> tuple[int, TagInfo] | None:
    """The tag at `slug` (ignoring case); None when there is none."""
    slug = slug.replace("\x00", "").strip().lower()
    rows = await db.read(select(Tag.id, Tag.slug, Tag.name).where(Tag.slug == slug), {})
    return (rows[0].id, TagInfo(rows[0].slug, rows[0].name)) if rows else None


def _public_tags() -> ColumnElement[bool]:
    """Tags that file at least one public post: a draft's tags stay private."""
    filed = select(PostTag.tag_id).join(Post, Post.id == PostTag.post_id).where(PUBLIC)
    return Tag.id.in_(filed)


async def _count(db: Database, query: AnySelect) -> int:
    rows = await db.read(query, {})
    return int(rows[0][0])


async def sitemap_size(db: Database) -> int:
    """How many entries the sitemap has: the home page, public tags, public posts."""
    posts = await _count(db, select(func.count()).select_from(Post).where(PUBLIC))
    return 1 + await _tag_count(db) + posts


async def _tag_count(db: Database) -> int:
    return await _count(db, select(func.count()).select_from(Tag).where(_public_tags()))


async def sitemap_entries(db: Database, offset: int, limit: int) -> list[SitemapEntry]:
    """Entries `offset` to `offset + limit` of: the home page, the public tags by slug,
    then the public posts by id (a stable order, so pages neither overlap nor skip)."""
    entries: list[SitemapEntry] = []
    if offset == 0 and limit > 0:
        entries.append(SitemapEntry("/"))
    tag_count = await _tag_count(db)
    tag_offset = max(offset - 1, 0)  # the home page is entry 0
    if tag_offset < tag_count and len(entries) < limit:
        tags = (
            select(Tag.slug).where(_public_tags()).order_by(Tag.slug)
            .offset(tag_offset).limit(limit - len(entries))
        )  # fmt: skip
        entries += [SitemapEntry(f"/tags/{row.slug}") for row in await db.read(tags, {})]
    if len(entries) < limit:
        posts = (
            select(Post.slug, Post.updated_at).where(PUBLIC).order_by(Post.id)
            .offset(max(offset - 1 - tag_count, 0)).limit(limit - len(entries))
        )  # fmt: skip
        rows = await db.read(posts, {})
        entries += [SitemapEntry(f"/posts/{row.slug}", row.updated_at) for row in rows]
    return entries
