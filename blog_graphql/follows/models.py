"""The follows table: who follows whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow


class Follow(Base):
    """`follower_id` follows `followed_id`; either user's deletion removes the row."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # A user's followers (and their count); the primary key serves "whom I follow".
        Index("ix_follows_followed_follower", "followed_id", "follower_id"),
    )
