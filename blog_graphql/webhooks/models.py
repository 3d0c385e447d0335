"""Webhooks, their deliveries (the outbox: one row per event and endpoint) and attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow

PENDING = "pending"  # an attempt is due at `next_attempt_at`
DELIVERED = "delivered"
FAILED = "failed"  # every attempt of the schedule failed, or the webhook was disabled


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # `whsec_` + base64: kept as given to the admin, since signing needs it whole.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # WebhookEvent names
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last delivery that succeeded: a delivery that fails its whole schedule with no
    # success since its event disables the webhook.
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    # `webhook-id`: the same for every attempt and redelivery of this message.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker is sending it until then; a second message for it finds it taken.
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the relay last handed the overdue row to the broker.
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The next attempt is an admin's redelivery: one attempt, no retries after it.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_id", "webhook_id", "id"),
        Index("ix_webhook_deliveries_status_next_attempt", "status", "next_attempt_at"),
    )


class WebhookAttempt(Base):
    """One POST of a delivery, whatever came of it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
