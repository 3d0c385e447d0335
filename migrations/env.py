"""Alembic environment: runs migrations over the async engine, batch mode on SQLite."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from blog_graphql.config.settings import get_settings
from blog_graphql.db.database import create_engine
from blog_graphql.models import Base

# Objects created by raw SQL in migrations for one backend only (full-text search).
SEARCH_OBJECTS = {
    "posts_fts",
    "search_vector",
    "ix_posts_search_vector",
    "ix_post_search_search_vector",
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name is None:
        return True
    return not (name in SEARCH_OBJECTS or name.startswith("posts_fts"))


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_configure_and_run)
    await engine.dispose()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    asyncio.run(_run_async(url))


run()
