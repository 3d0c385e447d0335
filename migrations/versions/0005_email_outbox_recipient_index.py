"""email_outbox: an index on the recipient, for the cap on account emails

API.md allows at most 3 password-reset or verification emails per address per hour,
whoever asks; the outbox, which every instance shares, is the record counted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_email_outbox_recipient_created",
        "email_outbox",
        [sa.literal_column("lower(recipient)"), "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_email_outbox_recipient_created", table_name="email_outbox")
