"""`migrate` says what it applied; `seed` runs into a used database, refuses an unmigrated
PostgreSQL in one line, and leaves the planner fresh statistics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert, make_url, select, text

from blog_graphql.accounts.models import User
from blog_graphql.db import migrate
from blog_graphql.db.database import Database
from blog_graphql.posts.models import PostTag, Tag
from tests import databases
from tests.conftest import TEST_DATABASE_URL, requires_postgres
from tests.factories import create_user
from tests.foundation.test_cli import run_cli

REVISIONS = sorted(
    path.name.split("_")[0] for path in migrate.find_migrations_dir().glob("versions/0*.py")
)
SEED = ("seed", "--users", "3", "--posts", "5", "--comments", "5", "--tags", "3")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all."""
    yield await databases.empty_database_url(request.param, tmp_path, "seed")


def cli(url: str, *args: str, cwd: Path):
    return run_cli(*args, env={"DATABASE_URL": url}, cwd=cwd)


async def test_migrate_names_the_revisions_it_applied_then_says_up_to_date(
    empty_database, tmp_path
):
    first = cli(empty_database, "migrate", cwd=tmp_path)
    again = cli(empty_database, "migrate", cwd=tmp_path)
    assert REVISIONS and REVISIONS[0] == "0001"
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"applied {', '.join(REVISIONS)}: the database is at the latest migration\n"
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == "already up to date: the database is at the latest migration\n"


@requires_postgres
async def test_seed_into_an_unmigrated_postgresql_says_to_migrate_in_one_line(tmp_path):
    assert TEST_DATABASE_URL is not None
    url = make_url(TEST_DATABASE_URL)
    scratch = url.set(database=f"{url.database}_seed").render_as_string(False)
    await databases.recreate_postgres_database(scratch)
    result = cli(scratch, *SEED, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"blog-graphql: error: the database lacks migrations {', '.join(REVISIONS)}: "
        "run `blog-graphql migrate` first\n"
    )
    db = Database.from_url(scratch)
    async with db.session() as session:
        tables = await session.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )
    await db.dispose()
    assert tables == 0  # nothing was created behind the user's back


async def test_seed_twice_into_a_used_database_reuses_tags_and_picks_free_names(
    empty_database, tmp_path
):
    assert cli(empty_database, "migrate", cwd=tmp_path).returncode == 0
    db = Database.from_url(empty_database)
    # What people made before seeding: names the seed would pick for its users and tags.
    await create_user(db, username="user2", email="user3@example.com")
    async with db.transaction() as session:
        await session.execute(
            insert(Tag),
            [
                {"name": "python", "slug": "python", "color": "#000000"},  # "Python", any case
                {"name": "Graph QL", "slug": "graphql", "color": "#000000"},  # same slug
            ],
        )
    first = cli(empty_database, *SEED, cwd=tmp_path)
    second = cli(empty_database, *SEED, cwd=tmp_path)
    async with db.session() as session:
        users = set(await session.scalars(select(User.username + " " + User.email)))
        tags = list(await session.scalars(select(Tag.name).order_by(Tag.id)))
        tag_ids = set(await session.scalars(select(Tag.id)))
        used_tags = set(await session.scalars(select(PostTag.tag_id)))
        posts = await session.scalar(text("SELECT count(*) FROM posts"))
    await db.dispose()
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("seeded 3 users, 3 tags (2 already there), 5 posts and 5 ")
    assert first.stdout.rstrip().endswith(", then analysed the tables")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("seeded 3 users, 3 tags (3 already there), 5 posts and 5 ")
    assert users == {
        "user2 user3@example.com",
        *("user2-2 user2@example.com", "user3 user3-2@example.com", "user4 user4@example.com"),
        *("user5 user5@example.com", "user6 user6@example.com", "user7 user7@example.com"),
    }
    assert tags == ["python", "Graph QL", "Databases"]
    assert used_tags <= tag_ids
    assert posts == 10


ROW_ESTIMATES = {
    # PostgreSQL: -1 until a table is first analysed (or vacuumed), then its row estimate.
    "postgresql": "SELECT relname, reltuples FROM pg_class "
    "WHERE relname IN ('users', 'tags', 'posts', 'comments')",
    # SQLite: ANALYZE writes sqlite_stat1, each line starting with the table's row count.
    "sqlite": "SELECT tbl, CAST(stat AS INTEGER) FROM sqlite_stat1 "
    "WHERE tbl IN ('users', 'tags', 'posts', 'comments')",
}


async def test_seed_leaves_the_tables_analysed(empty_database, tmp_path):
    assert cli(empty_database, "migrate", cwd=tmp_path).returncode == 0
    result = cli(empty_database, *SEED, cwd=tmp_path)
    db = Database.from_url(empty_database)
    async with db.session() as session:
        estimates = {name: int(rows) for name, rows in await session.execute(
            text(ROW_ESTIMATES[db.dialect])
        )}  # fmt: skip
    await db.dispose()
    assert result.returncode == 0, result.stderr
    assert estimates == {"users": 3, "tags": 3, "posts": 5, "comments": 5}
