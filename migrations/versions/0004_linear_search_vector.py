"""posts: a search vector built in linear time, whatever the content

PostgreSQL's default text-search parser is quadratic on a long run such as
`a_a_a_…`: 100 KB of it cost two minutes of database CPU in one INSERT, and again on
every UPDATE (the generated column is recomputed when the title changes too). The
vector is now built from the content with a space after every 100 non-space
characters, which bounds the parser's look-ahead; real words and URLs are far shorter
and index as before. The title is at most 200 characters and stays as it was. SQLite's
FTS5 tokenizer is linear and needs no change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINEAR_CONTENT = r"regexp_replace(coalesce(content, ''), '(\S{100})', '\1 ', 'g')"
QUADRATIC_CONTENT = "coalesce(content, '')"


def upgrade() -> None:
    _replace_search_vector(LINEAR_CONTENT)


def downgrade() -> None:
    _replace_search_vector(QUADRATIC_CONTENT)


def _replace_search_vector(content: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A generated column's expression cannot be altered: drop it (its index goes with it).
    op.execute("ALTER TABLE posts DROP COLUMN search_vector")
    op.execute(
        f"""ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', {content}), 'B')) STORED"""
    )
    op.execute("CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)")
