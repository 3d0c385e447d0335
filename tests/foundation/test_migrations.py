"""Migrations go up, down and up again on both databases, and match the models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from blog_graphql.db import migrate
from blog_graphql.db.database import create_engine
from blog_graphql.models import Base
from tests import databases
from tests.conftest import requires_postgres

APP_TABLES = {table.name for table in Base.metadata.tables.values()}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    yield await databases.empty_database_url(request.param, tmp_path, "migrations")


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def model_differences(url: str) -> list[object]:
    engine = create_engine(url)

    def compare(sync_connection: object) -> list[object]:
        context = MigrationContext.configure(
            sync_connection,  # type: ignore[arg-type]
            opts={"compare_type": True, "include_object": migrate_include_object},
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(compare)
    await engine.dispose()
    return differences


def migrate_include_object(obj, name, type_, reflected, compare_to):
    return not (name and (name.startswith("posts_fts") or "search_vector" in name))


async def test_upgrade_downgrade_and_upgrade_again(empty_database: str):
    await asyncio.to_thread(migrate.upgrade, empty_database)
    assert await table_names(empty_database) >= APP_TABLES
    await asyncio.to_thread(migrate.downgrade, empty_database, "base")
    assert not (await table_names(empty_database)) & APP_TABLES
    await asyncio.to_thread(migrate.upgrade, empty_database)
    assert await table_names(empty_database) >= APP_TABLES


# SQLite cannot reflect expression indexes; PostgreSQL compares them fully.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_autogenerate_finds_no_difference_between_models_and_migrations(
    empty_database: str,
):
    await asyncio.to_thread(migrate.upgrade, empty_database)
    assert await model_differences(empty_database) == []
