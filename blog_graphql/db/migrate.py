"""Applies the Alembic migrations from code (the CLI, `serve`'s first start, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

import blog_graphql

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
