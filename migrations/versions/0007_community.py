"""community: follows, reactions (posts and comments) and bookmarks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followed_id", sa.Integer(), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["users.id"],
            name=op.f("fk_follows_followed_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name=op.f("pk_follows")),
    )
    op.create_index(
        "ix_follows_followed_follower", "follows", ["followed_id", "follower_id"], unique=False
    )
    _reactions("post_reactions", "post_id", "posts")
    _reactions("comment_reactions", "comment_id", "comments")
    op.create_table(
        "bookmarks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookmarks_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_bookmarks_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "post_id", name=op.f("pk_bookmarks")),
    )
    op.create_index(
        "ix_bookmarks_user_created", "bookmarks", ["user_id", "created_at", "post_id"], unique=False
    )
    op.create_index("ix_bookmarks_post_id", "bookmarks", ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bookmarks_post_id", table_name="bookmarks")
    op.drop_index("ix_bookmarks_user_created", table_name="bookmarks")
    op.drop_table("bookmarks")
    for table in ("comment_reactions", "post_reactions"):
        op.drop_index(f"ix_{table}_user_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_follows_followed_follower", table_name="follows")
    op.drop_table("follows")


def _reactions(table: str, subject: str, subjects: str) -> None:
    op.create_table(
        table,
        sa.Column(subject, sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            [subject],
            [f"{subjects}.id"],
            name=op.f(f"fk_{table}_{subject}_{subjects}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(subject, "kind", "user_id", name=op.f(f"pk_{table}")),
    )
    op.create_index(f"ix_{table}_user_id", table, ["user_id"], unique=False)
