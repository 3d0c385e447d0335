"""Applies the Alembic migrations from code (the CLI, `serve`'s first start, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import blog_graphql
from blog_graphql.db.database import create_engine

PACKAGE_DIR = Path(blog_graphql.__file__).resolve().parent


def find_migrations_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """The wheel's copy inside the package, else the checkout's top-level `migrations/`.

    An installed wheel (pip, pipx, `uv tool install`) has no top-level folder beside the
    package, only the copy the build puts into it (pyproject.toml, `force-include`).
    """
    for candidate in (package_dir / "migrations", package_dir.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no Alembic migrations in or beside {package_dir}")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(find_migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking; call it where no event loop runs (it starts its own)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate over an engine that already lives on the running event loop."""

    def _run(connection: object) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


def upgrade_in_thread(url: str) -> None:
    asyncio.run(asyncio.to_thread(upgrade, url))


def upgrade_reporting(url: str) -> list[str]:
    """Blocking, like `upgrade`: migrate to the latest revision; the revisions it applied,
    oldest first (none when the database was up to date)."""
    before = asyncio.run(_applied_over_url(url))
    upgrade(url)
    return missing_revisions(before)


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """The revisions `migrate` would apply to the database behind `engine`, oldest first."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_heads)
    return missing_revisions(current)


def missing_revisions(current: set[str]) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    applied: set[str] = set()
    for head in current:
        applied.update(revision.revision for revision in script.iterate_revisions(head, "base"))
    newest_first = [revision.revision for revision in script.walk_revisions()]
    return [revision for revision in reversed(newest_first) if revision not in applied]


async def _applied_over_url(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_heads)
    finally:
        await engine.dispose()


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())
