"""The login lockout: five failures in 15 minutes lock a login key for 15 minutes.

Every attempt is counted *before* its password is checked and counts as a failure
until it succeeds, so a burst of parallel guesses cannot slip past the limit. The
count lives where every instance sees it: the database, or Redis when configured.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, Executable, and_, case, delete, literal, or_
from sqlalchemy.dialects import postgresql, sqlite

from blog_graphql.accounts.models import LoginFailure
from blog_graphql.db.database import Database, UTCDateTime, utcnow

logger = logging.getLogger("blog_graphql.accounts.lockout")

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


def account_key(user_id: int) -> str:
    """One counter per account, whether it is named by email or by username."""
    return f"user:{user_id}"


def unknown_name_key(login: str) -> str:
    # Hashed: people type passwords into the login field; never store those.
    return "name:" + hashlib.sha256(login.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """The outcome of counting one attempt: go ahead, or wait `retry_after` seconds."""

    allowed: bool
    retry_after: int = 0


class LoginLockout(Protocol):
    async def attempt(self, key: str) -> Attempt: ...

    async def clear(self, key: str) -> None: ...


def _verdict(failures: int, seconds_left: float) -> Attempt:
    if failures <= MAX_FAILURES:
        return Attempt(allowed=True)
    return Attempt(allowed=False, retry_after=max(1, math.ceil(seconds_left)))


class DatabaseLockout:
    """Counts in `login_failures` with one atomic upsert per attempt."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def attempt(self, key: str) -> Attempt:
        now = utcnow()
        async with self.db.transaction() as session:
            row = (await session.execute(self._count_statement(key, now))).one()
        failures, locked_until = row
        seconds_left = (locked_until - now).total_seconds() if locked_until else 0.0
        return _verdict(failures, seconds_left)

    def _count_statement(self, key: str, now: datetime) -> Executable:
        table = LoginFailure.__table__
        at = literal(now, UTCDateTime())
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        expired: ColumnElement[bool] = or_(
            table.c.locked_until <= at,
            and_(table.c.locked_until.is_(None), table.c.window_started_at <= now - WINDOW),
        )
        statement = dialect.insert(table).values(
            login_key=key, failures=1, window_started_at=now, locked_until=None
        )
        upsert: Executable = statement.on_conflict_do_update(
            index_elements=[table.c.login_key],
            set_={
                "failures": case((expired, 1), else_=table.c.failures + 1),
                "window_started_at": case((expired, at), else_=table.c.window_started_at),
                "locked_until": case(
                    (expired, None),
                    (table.c.locked_until.is_not(None), table.c.locked_until),
                    (table.c.failures + 1 >= MAX_FAILURES, literal(now + LOCK, UTCDateTime())),
                    else_=None,
                ),
            },
        ).returning(table.c.failures, table.c.locked_until)
        return upsert

    async def clear(self, key: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.login_key == key))


# INCR, start the window on the first failure, restart the expiry as the lock on the
# fifth; later attempts while locked never extend it. Atomic inside Redis.
COUNT_SCRIPT = """
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if failures == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {failures, redis.call('PTTL', KEYS[1])}
"""
REDIS_PREFIX = "blog_graphql:login_failures:"


class RedisLockout:
    """The same rule in Redis: one script call per attempt, the key's TTL is the clock.

    While Redis is unreachable the database counts instead, so logins keep working and
    keep being limited; no attempt goes uncounted.
    """

    def __init__(self, redis: Redis, fallback: DatabaseLockout) -> None:
        self.redis = redis
        self.fallback = fallback
        self._count = redis.register_script(COUNT_SCRIPT)

    async def attempt(self, key: str) -> Attempt:
        window_ms, lock_ms = _milliseconds(WINDOW), _milliseconds(LOCK)
        try:
            failures, ttl_ms = await self._count(
                keys=[REDIS_PREFIX + key], args=[window_ms, MAX_FAILURES, lock_ms]
            )
        except RedisError as error:
            logger.warning("lockout: Redis unavailable, counting in the database: %r", error)
            return await self.fallback.attempt(key)
        return _verdict(int(failures), max(int(ttl_ms), 0) / 1000)

    async def clear(self, key: str) -> None:
        try:
            await self.redis.delete(REDIS_PREFIX + key)
        except RedisError as error:
            logger.warning("lockout: Redis unavailable, clearing in the database: %r", error)
            await self.fallback.clear(key)


def _milliseconds(duration: timedelta) -> int:
    return int(duration.total_seconds() * 1000)


def create_lockout(db: Database, redis_pool: ConnectionPool | None) -> LoginLockout:
    """Redis when the app has a Redis pool (REDIS_URL), else the database."""
    if redis_pool is None:
        return DatabaseLockout(db)
    # A client over the shared pool: closing the pool is the pool owner's job.
    return RedisLockout(Redis(connection_pool=redis_pool), DatabaseLockout(db))
