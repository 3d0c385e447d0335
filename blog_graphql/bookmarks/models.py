"""The bookmarks table: a user's private reading list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow


class Bookmark(Base):
    """`user_id` saved `post_id`; deleting either removes the row."""

    __tablename__ = "bookmarks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # A user's list, newest first, in keyset pages.
        Index("ix_bookmarks_user_created", "user_id", "created_at", "post_id"),
        # The cascade when a post goes.
        Index("ix_bookmarks_post_id", "post_id"),
    )
