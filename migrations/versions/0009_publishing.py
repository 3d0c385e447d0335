"""publishing: scheduled posts, reading time, SEO fields, revisions and preview links

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORDS_PER_MINUTE = 230
BATCH = 1000
_TAG = re.compile(r"<[^>]+>")


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: a batch would rebuild `posts` on SQLite and drop
    # the full-text triggers on it.
    op.add_column(
        "posts", sa.Column("publish_at", database.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "posts",
        sa.Column("reading_time_minutes", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("posts", sa.Column("seo_title", sa.String(length=200), nullable=True))
    op.add_column("posts", sa.Column("seo_description", sa.String(length=500), nullable=True))
    op.add_column("posts", sa.Column("canonical_url", sa.String(length=2048), nullable=True))
    op.create_index("ix_posts_publish_at", "posts", ["publish_at"], unique=False)
    _fill_reading_times()

    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_post_revisions_post", "post_revisions", ["post_id", "id"], unique=False)

    op.create_table(
        "preview_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_preview_links_post", "preview_links", ["post_id"], unique=False)


def _fill_reading_times() -> None:
    """Existing posts: words of their rendered text / 230, at least 1 (as the app does)."""
    connection = op.get_bind()
    posts = sa.table(
        "posts", sa.column("id", sa.Integer), sa.column("content_html", sa.Text),
        sa.column("reading_time_minutes", sa.Integer),
    )  # fmt: skip
    last = 0
    while True:
        rows = connection.execute(
            sa.select(posts.c.id, posts.c.content_html)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changes = [
            {"post_id": id_, "minutes": _minutes(len(_TAG.sub(" ", html).split()))}
            for id_, html in rows
        ]
        changes = [change for change in changes if change["minutes"] != 1]
        if changes:
            connection.execute(
                posts.update()
                .where(posts.c.id == sa.bindparam("post_id"))
                .values(reading_time_minutes=sa.bindparam("minutes")),
                changes,
            )
        last = rows[-1][0]


def _minutes(words: int) -> int:
    return max(1, (words + WORDS_PER_MINUTE // 2) // WORDS_PER_MINUTE)


def downgrade() -> None:
    op.drop_index("ix_preview_links_post", table_name="preview_links")
    op.drop_table("preview_links")
    op.drop_index("ix_post_revisions_post", table_name="post_revisions")
    op.drop_table("post_revisions")
    op.drop_index("ix_posts_publish_at", table_name="posts")
    for column in (
        "canonical_url",
        "seo_description",
        "seo_title",
        "reading_time_minutes",
        "publish_at",
    ):
        op.drop_column("posts", column)  # SQLite 3.35+ drops a column in place
