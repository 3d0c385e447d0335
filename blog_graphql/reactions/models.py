"""The reaction tables: one row per user, subject and kind (a post's or a comment's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow

KIND_LENGTH = 16


class PostReaction(Base):
    """A user's reaction of one kind to a post; counts are `COUNT(*)` of these rows, so
    they stay exact whatever races (the primary key makes a second one a no-op)."""

    __tablename__ = "post_reactions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The user's own reactions (and the cascade when a user goes).
    __table_args__ = (Index("ix_post_reactions_user_id", "user_id"),)


class CommentReaction(Base):
    """A user's reaction of one kind to a comment (as `PostReaction`)."""

    __tablename__ = "comment_reactions"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_comment_reactions_user_id", "user_id"),)
