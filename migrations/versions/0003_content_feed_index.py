"""content: an index on the feed's sort key alone

The feed of a signed-in reader is "published, or mine" and an admin's is every post;
neither condition can use `ix_posts_published_feed`, so without this index PostgreSQL
sorts every visible post to return the newest twenty.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_posts_feed", "posts", ["feed_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_posts_feed", table_name="posts")
