"""Shared fixtures: real databases, the app over httpx, an SQL statement log."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from blog_graphql.app import create_app
from blog_graphql.config.settings import Settings, load_settings
from blog_graphql.db.database import Database
from blog_graphql.state import AppState
from tests import databases
from tests.smtp import mailbox, smtp_server  # noqa: F401 (fixtures for every test)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
TEST_BCRYPT_ROUNDS = 4

requires_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to a PostgreSQL database to run this"
)
requires_redis = pytest.mark.skipif(
    not TEST_REDIS_URL, reason="set TEST_REDIS_URL to a Redis server to run this"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.prepare_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
async def postgres_db() -> AsyncIterator[Database | None]:
    """One migrated PostgreSQL database for the run, emptied after each test."""
    if not TEST_DATABASE_URL:
        yield None
        return
    await databases.prepare_postgres(TEST_DATABASE_URL)
    db = Database.from_url(TEST_DATABASE_URL)
    yield db
    await db.dispose()


@pytest.fixture
def database_url(postgres_db: Database | None, sqlite_template: Path, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return databases.copy_sqlite(sqlite_template, tmp_path / "test.db")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        bcrypt_rounds=TEST_BCRYPT_ROUNDS,
        redis_url=None,
        smtp_host=None,
        notification_digest_seconds=0,  # a test that digests sets its own window
        _env_file=None,
    )


@pytest.fixture
async def db(settings: Settings, postgres_db: Database | None) -> AsyncIterator[Database]:
    """A clean database for one test: a fresh SQLite copy, or PostgreSQL truncated after."""
    if postgres_db is not None:
        yield postgres_db
        await databases.truncate_postgres(postgres_db)
        return
    database = Database.from_url(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
def app_state(settings: Settings, db: Database) -> AppState:
    return AppState(settings=settings, db=db)


@pytest.fixture
async def client(app_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state=app_state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class SqlLog(list[str]):
    """Every SQL statement the app's engine ran, in order."""

    def statements(self) -> list[str]:
        return [s for s in self if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]


@pytest.fixture
def sql_log(db: Database) -> Iterator[SqlLog]:
    log = SqlLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    yield log
    event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; return the decoded body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FAIL_ON_SKIP=1 (CI's PostgreSQL and Redis run) a skipped test fails the run."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        print(f"\nFAIL_ON_SKIP: {len(skipped)} test(s) were skipped")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
