"""The transactional outbox: an email is a row written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from blog_graphql.db.database import Base, UTCDateTime, utcnow

PENDING = "pending"  # committed, not yet handed to the broker
ENQUEUED = "enqueued"  # handed to the broker, not yet confirmed sent
SENT = "sent"
FAILED = "failed"  # gave up: permanent error or retries exhausted
UNFINISHED = (PENDING, ENQUEUED)


class OutboxEmail(Base):
    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    template: Mapped[str] = mapped_column(String(50))
    recipient: Mapped[str] = mapped_column(String(320))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the relay may hand an unfinished row to the broker (again): the row was not
    # handed over, or its message was not confirmed sent in time.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker is sending it until then; a redelivered message finds it taken.
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_email_outbox_status_created", "status", "created_at"),
        Index("ix_email_outbox_status_next_attempt", "status", "next_attempt_at"),
        # The cap on account emails counts an address's recent ones (`outbox.count_recent`).
        Index("ix_email_outbox_recipient_created", func.lower(recipient), "created_at"),
    )
