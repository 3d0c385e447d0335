"""Test databases: a migrated template per run, a clean database per test."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import make_url, text

from blog_graphql.db import migrate
from blog_graphql.db.database import Database, create_engine
from blog_graphql.models import Base

TABLES = ", ".join(table.name for table in Base.metadata.sorted_tables)


def postgres_admin_url(url: str) -> str:
    """The same server, connected to its `postgres` database (to create and drop others)."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named in `url`, empty."""
    name = make_url(url).database
    engine = create_engine(postgres_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def empty_database_url(kind: str, directory: Path, name: str) -> str:
    """A database with no tables at all: a new SQLite file in `directory`, or a PostgreSQL
    database beside `TEST_DATABASE_URL` named after it with `_<name>`, dropped and created."""
    if kind == "sqlite":
        return f"sqlite:///{directory / f'{name}.db'}"
    from tests.conftest import TEST_DATABASE_URL

    assert TEST_DATABASE_URL is not None
    url = make_url(TEST_DATABASE_URL)
    scratch = url.set(database=f"{url.database}_{name}").render_as_string(False)
    await recreate_postgres_database(scratch)
    return scratch


async def prepare_postgres(url: str) -> None:
    await recreate_postgres_database(url)
    await asyncio.to_thread(migrate.upgrade, url)


async def truncate_postgres(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


def prepare_sqlite_template(directory: Path) -> Path:
    template = directory / "template.db"
    migrate.upgrade(f"sqlite:///{template}")
    return template


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
