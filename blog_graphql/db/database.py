"""The database: declarative base, column types, and a small handle for sessions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import DateTime, Executable, MetaData, Row, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from blog_graphql.config.settings import DEFAULT_POOL_SIZE, Settings, to_async_url
from blog_graphql.db import table_tags
from blog_graphql.db.direct_reads import DirectReads, statements_watched
from blog_graphql.engine._compat import greenlet_spawn, loaded_instance

logger = logging.getLogger("blog_graphql.db")

# SQLAlchemy 2.1 types rows by their column types; these take any columns.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]

# Deterministic constraint names keep migrations reproducible on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        # asyncpg decodes a timestamptz as an aware datetime in UTC already: converting it
        # again would be one call per timestamp read (hundreds in a feed) that changes nothing.
        if (
            dialect.driver == "asyncpg"
            and self.impl_instance.result_processor(dialect, coltype) is None
        ):
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


M = TypeVar("M", bound="Base")


def loaded(mapped: type[M], keys: Sequence[str], row: Sequence[Any]) -> M:
    """An ORM object of `mapped` from a Core row of its columns (`keys` in the row's order),
    as a session would load it, for a caller that wants the object but not the session."""
    return loaded_instance(mapped, zip(keys, row, strict=True))


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for any accepted DATABASE_URL spelling."""
    async_url = to_async_url(url)
    # Errors and logs show statements without their values (password hashes, tokens).
    kwargs.setdefault("hide_parameters", True)
    if async_url.startswith("sqlite"):
        engine = create_async_engine(async_url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # A fixed number of connections (`DATABASE_POOL_SIZE`), none beyond: an overflow
    # connection is closed as soon as it is handed back, so under load (a feed request reads
    # on up to four at once) the pool opened and closed one every other request, a
    # PostgreSQL backend each time.
    kwargs.setdefault("pool_size", DEFAULT_POOL_SIZE)
    kwargs.setdefault("max_overflow", 0)
    return create_async_engine(async_url, **kwargs)


SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SQLITE_CACHE_KIB = 32 * 1024


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside a writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Reads go through memory-mapped pages, and 32 MB of them stay cached per connection
    # (the default is 2 MB): a search reads the row of every match to check who may see it.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


AfterCommit = Callable[[], Awaitable[None]]
# Told the tables each committed transaction wrote (`table_tags`): the response cache.
WriteObserver = Callable[[frozenset[str]], Awaitable[None]]
_AFTER_COMMIT = "after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` after the transaction of `session` commits (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # the action is committed; a failed side effect must not undo it
            logger.exception("after-commit callback failed")


class Database:
    """Owns the engine; hands out short-lived sessions, one per unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        table_tags.use_metadata(Base.metadata)
        self.write_observers: list[WriteObserver] = []
        self._sessions = async_sessionmaker(
            engine,
            expire_on_commit=False,
            autoflush=False,
            sync_session_class=table_tags.TrackedSession,
        )
        # On PostgreSQL a read in autocommit needs no BEGIN before it and no ROLLBACK when
        # its connection goes back to the pool: two round trips saved per read. (SQLite
        # begins no transaction for a read; there, switching the mode costs more than it saves.)
        postgres = engine.dialect.name == "postgresql"
        reads = engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
        self._reads = async_sessionmaker(
            reads,
            expire_on_commit=False,
            autoflush=False,
            sync_session_class=table_tags.TrackedSession,
        )
        self._read_engine = reads
        sync = engine.sync_engine
        self.direct_reads = (
            DirectReads(sync.pool, sync.dialect, statements_watched(sync))
            if sync.dialect.driver == "asyncpg"
            else None
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(create_engine(url, **kwargs))

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.from_url(settings.database_url, pool_size=settings.database_pool_size)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session; it never commits, and each statement sees the latest commits."""
        async with self._reads() as session:
            yield session

    async def read(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[AnyRow]:
        """The rows of a Core statement, read as `session()` reads: the loaders' path."""
        return (await self.read_each([(statement, params)]))[0]

    async def read_each(
        self, reads: Sequence[tuple[Executable, Mapping[str, Any]]]
    ) -> list[Sequence[AnyRow]]:
        """The rows of each statement, one after the other on one read connection."""
        for statement, _params in reads:
            table_tags.record_read(statement)
        direct = self.direct_reads
        if direct is not None and (planned := direct.plan(reads)) is not None:
            return await direct.run(planned, reads)  # statements run before: `direct_reads.py`
        return await greenlet_spawn(self._read_each, reads)

    def _read_each(
        self, reads: Sequence[tuple[Executable, Mapping[str, Any]]]
    ) -> list[Sequence[AnyRow]]:
        # A connection rather than an ORM session: the rows are plain columns, and setting
        # up a session and its ORM compile state cost more than the read. And one greenlet
        # for all of it, where the async API switches into one to check the connection out,
        # another per statement and a third to hand it back: a quarter of a read's CPU.
        with self._read_engine.sync_engine.connect() as connection:
            return [connection.execute(statement, params).all() for statement, params in reads]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        Callbacks registered with `after_commit` run once the commit succeeded, so a
        subscriber or an email never hears of something that was rolled back.
        """
        async with self._sessions() as session:
            async with session.begin():
                yield session
            await self._tell_write_observers(table_tags.written_by(session.sync_session))
            await _run_after_commit(session)

    async def _tell_write_observers(self, tables: frozenset[str]) -> None:
        # Before the other after-commit work: a subscriber told of a change and
        # refetching must not be answered from a cache that still holds the old state.
        if not tables:
            return
        for observer in list(self.write_observers):
            try:
                await observer(tables)
            except Exception:  # committed: a failed invalidation is logged, never raised
                logger.exception("write observer failed")

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self.direct_reads is not None:
            await self.direct_reads.release()
        await self.engine.dispose()
