"""media: uploaded images, their variants, posts' covers and users' avatars

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("alt", sa.String(length=500), nullable=True),
        sa.Column("original_key", sa.String(length=200), nullable=True),
        sa.Column("original_format", sa.String(length=8), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("handed_over_at", database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_images_owner", "images", ["owner_id"], unique=False)
    op.create_index(
        "ix_images_status_handed_over", "images", ["status", "handed_over_at"], unique=False
    )
    op.create_table(
        "image_variants",
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("image_id", "name", "content_type"),
    )
    op.create_table(
        "post_covers",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_post_covers_image", "post_covers", ["image_id"], unique=False)
    op.create_table(
        "user_avatars",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_user_avatars_image", "user_avatars", ["image_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_user_avatars_image", table_name="user_avatars")
    op.drop_table("user_avatars")
    op.drop_index("ix_post_covers_image", table_name="post_covers")
    op.drop_table("post_covers")
    op.drop_table("image_variants")
    op.drop_index("ix_images_status_handed_over", table_name="images")
    op.drop_index("ix_images_owner", table_name="images")
    op.drop_table("images")
