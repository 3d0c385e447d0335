"""Post and tag tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    color: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("uq_tags_name_lower", func.lower(name), unique=True),)


class Post(Base):
    """A post. `feed_at` is the feed's sort key: `published_at`, or `created_at` for drafts.

    Keeping it as a column lets one index serve keyset pagination for drafts and
    published posts alike.
    """

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    excerpt: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When a scheduled draft goes live (`schedulePost`); null unless SCHEDULED. The
    # scheduler claims a due row by clearing it in a conditional UPDATE (`posts.scheduling`).
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Words / 230, at least 1: worked out when the content is written.
    reading_time_minutes: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seo_title: Mapped[str | None] = mapped_column(String(200))
    seo_description: Mapped[str | None] = mapped_column(String(500))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))

    __table_args__ = (
        Index("ix_posts_published_feed", "published", "feed_at", "id"),
        Index("ix_posts_publish_at", "publish_at"),
        # "Published or mine" (a signed-in reader) and "everything" (an admin) scan this one.
        Index("ix_posts_feed", "feed_at", "id"),
        Index("ix_posts_author_feed", "author_id", "feed_at", "id"),
    )


class PostSearch(Base):
    """The narrow copy of each post that search ranks: what visibility and the order read,
    so ranking every match scans a small table, not the wide posts (bodies, HTML).

    Triggers on `posts` keep it (migration 0010); on PostgreSQL it also holds the post's
    `search_vector` (a copy of `posts.search_vector`) with a GIN index, made there by raw
    SQL like the column it copies. Never written by the application.
    """

    __tablename__ = "post_search"

    id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    author_id: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean)
    feed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostTag(Base):
    __tablename__ = "post_tags"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_post_tags_tag_post", "tag_id", "post_id"),)


class PostRevision(Base):
    """A post's title and content as they were before an edit replaced them."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # Who made the edit that archived this version.
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_post_revisions_post", "post_id", "id"),)


class PreviewLink(Base):
    """A preview token of a draft: only its SHA-256 is kept."""

    __tablename__ = "preview_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_preview_links_post", "post_id"),)
