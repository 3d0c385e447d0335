"""post_search: the narrow rows search ranks, kept by triggers on posts

Ranking every match read the wide posts heap (bodies, HTML, a toasted search vector):
about 70 ms for a word most of 10,000 posts hold. This table holds what visibility, the
filters and the order read (id, author, published, feed time) and, on PostgreSQL, a copy
of `posts.search_vector` with its own GIN index, so the scan reads a few MB. Triggers
keep it in step with posts (every write path, the seed included); deleting a post
cascades. The application never writes it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UPGRADE = (
    "ALTER TABLE post_search ADD COLUMN search_vector tsvector",
    "UPDATE post_search SET search_vector = posts.search_vector FROM posts"
    " WHERE posts.id = post_search.id",
    "CREATE INDEX ix_post_search_search_vector ON post_search USING gin (search_vector)",
    # AFTER: NEW holds the generated `search_vector`, so it is never computed twice.
    """CREATE FUNCTION post_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO post_search (id, author_id, published, feed_at, search_vector)
        VALUES (NEW.id, NEW.author_id, NEW.published, NEW.feed_at, NEW.search_vector)
        ON CONFLICT (id) DO UPDATE SET author_id = EXCLUDED.author_id,
            published = EXCLUDED.published, feed_at = EXCLUDED.feed_at,
            search_vector = EXCLUDED.search_vector;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER post_search_sync
    AFTER INSERT OR UPDATE OF title, content, author_id, published, feed_at ON posts
    FOR EACH ROW EXECUTE FUNCTION post_search_sync()""",
)
SQLITE_UPGRADE = (
    """CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
        INSERT INTO post_search (id, author_id, published, feed_at)
        VALUES (new.id, new.author_id, new.published, new.feed_at);
    END""",
    """CREATE TRIGGER post_search_update AFTER UPDATE OF author_id, published, feed_at ON posts
    BEGIN
        UPDATE post_search SET author_id = new.author_id, published = new.published,
            feed_at = new.feed_at WHERE id = new.id;
    END""",
    """CREATE TRIGGER post_search_delete AFTER DELETE ON posts BEGIN
        DELETE FROM post_search WHERE id = old.id;
    END""",
)


def upgrade() -> None:
    op.create_table(
        "post_search",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("feed_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO post_search (id, author_id, published, feed_at)"
        " SELECT id, author_id, published, feed_at FROM posts"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_UPGRADE if postgres else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS post_search_sync ON posts")
        op.execute("DROP FUNCTION IF EXISTS post_search_sync()")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS post_search_{trigger}")
    op.drop_table("post_search")
