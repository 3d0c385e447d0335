"""The benchmark's PostgreSQL database: created, migrated and seeded once, then analysed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from bench.workload import POSTGRAPHILE_QUERIES

SIZE = {"users": 1000, "posts": 10000, "comments": 100000}
TAGS = 50  # seed's default
COUNT_ROWS = """
SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts),
       (SELECT count(*) FROM comments), (SELECT count(*) FROM tags)
"""


def plain_dsn(url: str) -> str:
    """asyncpg's DSN for a SQLAlchemy-style URL (`postgresql+asyncpg://` and the like)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def prepare(url: str) -> None:
    """Create, migrate and seed the database unless it already holds the benchmark's data."""
    asyncio.run(_create_database(plain_dsn(url)))
    counts = asyncio.run(_row_counts(plain_dsn(url)))
    wanted = (SIZE["users"], SIZE["posts"], SIZE["comments"], TAGS)
    if counts == wanted:
        print(f"database already seeded {counts}")
    elif counts in (None, (0, 0, 0, 0)):
        _blog_graphql(url, "migrate")
        _blog_graphql(url, "seed", *(f"--{name}={value}" for name, value in SIZE.items()))
    else:
        raise SystemExit(
            f"{url} holds other data (users, posts, comments, tags = {counts}); "
            "drop it or pass another --database-url"
        )
    asyncio.run(_finish(plain_dsn(url)))


async def _create_database(dsn: str) -> None:
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    server = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()


async def _row_counts(dsn: str) -> tuple[int, ...] | None:
    connection = await asyncpg.connect(dsn)
    try:
        return tuple(await connection.fetchrow(COUNT_ROWS))
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()


async def _finish(dsn: str) -> None:
    """PostGraphile's listing functions, then fresh planner statistics for both systems."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute((POSTGRAPHILE_QUERIES / "functions.sql").read_text())
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _blog_graphql(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "blog_graphql", *args], env=env, check=True)
