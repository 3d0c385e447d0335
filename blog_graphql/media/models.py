"""Image tables: uploads, their processed variants, and what uses them (covers, avatars)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow

PROCESSING = "PROCESSING"
READY = "READY"
FAILED = "FAILED"


class Image(Base):
    """An upload. Its original waits under `original_key` until a worker has made the
    variants (then it is removed); `handed_over_at` is the outbox's record of the job."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Random, so stored names say nothing and cannot be guessed from the id.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=PROCESSING)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    alt: Mapped[str | None] = mapped_column(String(500))
    original_key: Mapped[str | None] = mapped_column(String(200))
    original_format: Mapped[str] = mapped_column(String(8))  # Pillow's name: JPEG, PNG, ...
    byte_size: Mapped[int] = mapped_column(BigInteger)  # counted against the owner's quota
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_images_owner", "owner_id"),
        Index("ix_images_status_handed_over", "status", "handed_over_at"),
    )


class ImageVariant(Base):
    """One stored rendition: a size (`name`) in one format."""

    __tablename__ = "image_variants"

    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(BigInteger)


class PostCover(Base):
    """A post's cover image (a row of its own: the posts table and its cards stay as they are)."""

    __tablename__ = "post_covers"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_post_covers_image", "image_id"),)


class UserAvatar(Base):
    __tablename__ = "user_avatars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_user_avatars_image", "image_id"),)
