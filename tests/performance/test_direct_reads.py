"""On PostgreSQL the loaders' statements run straight on asyncpg, answering as SQLAlchemy does.

`direct_reads.py` takes a statement off SQLAlchemy's execution path once it has run before
and while nobody listens to SQLAlchemy's statement events. Every document of the corpus
runs both ways here, for every kind of viewer: the answers must be identical.
"""

import asyncio
from typing import Any

import pytest
from sqlalchemy import Enum, event, func, literal, select, text
from sqlalchemy.pool import QueuePool

from blog_graphql.db.database import Database
from blog_graphql.db.direct_reads import IDLE_KEPT, compile_direct
from blog_graphql.posts.models import Post
from tests.conftest import requires_postgres
from tests.factories import auth_headers, create_post, create_user
from tests.performance.documents import documents
from tests.performance.world import build_world
from tests.waiting import eventually

pytestmark = requires_postgres
VIEWERS = ["anonymous", "reader", "admin"]


def _listening(_conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
    """A statement listener: while one is attached, every read keeps to SQLAlchemy."""


async def answers(client: Any, headers: dict[str, str], variables: dict[str, Any]) -> list[bytes]:
    replies = []
    for query in documents().values():
        body = {"query": query, "variables": variables}
        reply = await client.post("/graphql", json=body, headers=headers)
        replies.append(reply.status_code.to_bytes(2, "big") + reply.content)
    return replies


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_direct_reads_answer_byte_for_byte_as_sqlalchemy(client, db, settings, viewer):
    world = await build_world(db)
    users = {"reader": world.readers[1], "admin": world.admin}
    headers = await auth_headers(db, settings, users[viewer]) if viewer in users else {}
    variables = world.all_variables()
    direct = db.direct_reads
    assert direct is not None
    assert not direct.watched(), "a statement listener left on the engine by an earlier test"

    await answers(client, headers, variables)  # every statement seen once
    runs = direct.runs
    ours = await answers(client, headers, variables)
    assert direct.runs - runs >= 100  # the loaders' reads went direct (a few are built per request)

    event.listen(db.engine.sync_engine, "before_cursor_execute", _listening)
    try:
        runs = direct.runs
        theirs = await answers(client, headers, variables)
        assert direct.runs == runs  # none did while someone listened
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _listening)
    different = [name for name, a, b in zip(documents(), ours, theirs, strict=True) if a != b]
    assert not different


def test_statements_whose_columns_sqlalchemy_converts_keep_to_sqlalchemy(db: Database):
    dialect = db.engine.sync_engine.dialect
    assert compile_direct(select(Post.id, Post.published_at), dialect) is not None
    mood = Enum("happy", "sad", name="mood")
    assert compile_direct(select(literal("happy", mood)), dialect) is None
    assert compile_direct(select(literal(1) / Post.id), dialect) is None  # a Numeric


async def test_a_statement_the_server_refuses_leaves_the_connection_in_the_pool(db: Database):
    statement = select(Post.id // (Post.id - Post.id))  # integers: no conversion
    author = await create_user(db)
    await create_post(db, author=author)
    pool, direct = db.engine.sync_engine.pool, db.direct_reads
    assert isinstance(pool, QueuePool) and direct is not None
    await direct.release()
    for _ in range(3):  # seen, then direct twice
        with pytest.raises(Exception, match="division by zero"):
            await db.read(statement, {})
    assert direct.runs >= 2
    assert pool.checkedout() == direct.kept == 1  # kept for the next read, not lost
    assert (await db.read(select(literal(7)), {}))[0][0] == 7


async def sleeping_backends(db: Database) -> int:
    """Server processes running a `pg_sleep` statement other than this query."""
    async with db.transaction() as session:
        found = await session.scalar(
            select(func.count())
            .where(text("query LIKE '%pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()"))
            .select_from(text("pg_stat_activity"))
        )
    return int(found or 0)


async def test_a_read_cancelled_mid_statement_gives_its_connection_up(db: Database):
    statement = select(func.pg_sleep(0.3), literal(1))
    pool, direct = db.engine.sync_engine.pool, db.direct_reads
    assert isinstance(pool, QueuePool) and direct is not None
    await db.read(statement, {})  # seen: the next run is direct
    await direct.release()
    runs = direct.runs
    reading = asyncio.create_task(db.read(statement, {}))
    await eventually(lambda: sleeping_backends(db), what="the statement reaching the server")
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert direct.runs == runs + 1
    assert pool.checkedout() == direct.kept == 0
    assert (await db.read(statement, {}))[0][1] == 1  # the pool still serves


async def test_reads_keep_a_few_connections_and_the_pool_lends_the_rest(db: Database):
    statement = select(func.pg_sleep(0.05), literal(1))
    pool, direct = db.engine.sync_engine.pool, db.direct_reads
    assert isinstance(pool, QueuePool) and direct is not None
    await db.read(statement, {})  # seen: the next runs are direct
    await asyncio.gather(*(db.read(statement, {}) for _ in range(10)))
    assert direct.kept == IDLE_KEPT and pool.checkedout() == IDLE_KEPT
    author = await create_user(db)  # a write takes a connection of its own
    assert (await create_post(db, author=author)).id
    await direct.release()
    assert direct.kept == 0 and pool.checkedout() == 0


async def test_a_kept_connection_the_server_closed_fails_one_read_only(db: Database):
    statement = select(func.pg_backend_pid())
    pool, direct = db.engine.sync_engine.pool, db.direct_reads
    assert isinstance(pool, QueuePool) and direct is not None
    await db.read(statement, {})  # seen
    await direct.release()
    (pid,) = (await db.read(statement, {}))[0]  # direct, its connection kept
    assert direct.kept == 1
    async with db.transaction() as session:
        await session.execute(select(func.pg_terminate_backend(pid)))
    with pytest.raises(Exception):  # noqa: B017 - asyncpg's error for a lost connection
        await db.read(statement, {})
    assert direct.kept == 0 and pool.checkedout() == 0
    (new_pid,) = (await db.read(statement, {}))[0]
    assert new_pid != pid
