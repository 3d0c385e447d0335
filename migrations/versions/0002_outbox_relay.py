"""outbox relay: when a row is due for (re)delivery, and who is sending it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_outbox") as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sending_until", database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_email_outbox_status_next_attempt", ["status", "next_attempt_at"], unique=False
        )
    # Rows written before this revision are due at once: the relay hands them over.
    op.execute(
        "UPDATE email_outbox SET next_attempt_at = created_at "
        "WHERE status IN ('pending', 'enqueued')"
    )


def downgrade() -> None:
    with op.batch_alter_table("email_outbox") as batch_op:
        batch_op.drop_index("ix_email_outbox_status_next_attempt")
        batch_op.drop_column("sending_until")
        batch_op.drop_column("next_attempt_at")
