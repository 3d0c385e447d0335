"""Notification tables: the notifications, email preferences, used unsubscribe tokens, and
the fan-outs of new posts waiting for a worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow


class Notification(Base):
    """One thing that concerns `recipient_id`; what it hangs on (the actor, the post, the
    comment) removes it when deleted (the foreign keys cascade)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    # What it is about ("comment:12", "post:5"): one notification per recipient and subject,
    # however often the subject is announced (a post republished, a comment approved again).
    subject_key: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when an email about it is wanted; null once the digest took it (or none is).
    email_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        UniqueConstraint("recipient_id", "subject_key", name="uq_notifications_recipient_subject"),
        # The recipient's list, newest first, and the unread ones among them.
        Index("ix_notifications_recipient_id", "recipient_id", "id"),
    )


class EmailPreference(Base):
    """Which notification emails a user wants; no row means the defaults."""

    __tablename__ = "email_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    comments_on_my_posts: Mapped[bool] = mapped_column(Boolean, default=True)
    replies_to_me: Mapped[bool] = mapped_column(Boolean, default=True)
    new_posts_by_followed: Mapped[bool] = mapped_column(Boolean, default=False)
    mentions: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UsedUnsubscribeToken(Base):
    """An unsubscribe token already used: a second use is refused."""

    __tablename__ = "used_unsubscribe_tokens"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationFanout(Base):
    """A published post whose followers a worker still has to notify (written in the
    publishing transaction; the relay hands over any that a crash left behind)."""

    __tablename__ = "notification_fanouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
