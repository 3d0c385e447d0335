"""The response cache: anonymous query answers, kept until a committed write changes what
they read.

An answer is stored with the tables its statements read (`db.table_tags`). Invalidation
is by version, never by deleting in time: every table has a version that each committed
write to it raises, and an answer is served only while the versions of all its tables
are those read *before* it was executed. So a read that started before a write's commit
and stores its old answer after the invalidation stores something already dead.

Two stores, checked in order:
- In process: an LRU bounded in bytes, against a local clock that invalidations move.
  Alone (no Redis), this process sees every write and that clock is exact. With Redis,
  other instances write too: each hit is checked against the Redis versions of its
  tables (one HMGET), which every writer raises before its response is sent, so a read
  that starts after another instance answered a write never gets the old answer. The
  pub/sub channel only drops dead answers early; while it is down (or not yet confirmed)
  neither store is used, as Redis is then likely unreachable.
- In Redis (REDIS_URL): shared by every instance, with a TTL; the table versions live in
  one Redis hash, read in the same transaction as the entry, so this store needs no
  message to be exact. While Redis is unreachable there is no cache at all.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import orjson
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from blog_graphql.config.settings import Settings
from blog_graphql.db.table_tags import EVERYTHING
from blog_graphql.http.invalidation_channel import InvalidationChannel
from blog_graphql.observability.metrics import RESPONSE_CACHE

logger = logging.getLogger("blog_graphql.response_cache")

GENERATION = "!generation"  # raised by a write we cannot see into: every answer dies
MAX_ANSWER_BYTES = 1024 * 1024
REDIS_ERRORS = (RedisError, OSError)


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    etag: str
    tables: frozenset[str]
    operation: str | None = None  # its name, for the access log and metrics of a hit


@dataclass(frozen=True, slots=True)
class Versions:
    """The Redis versions of an answer's tables when it was read: valid while unchanged."""

    names: tuple[str, ...]
    values: tuple[int, ...]

    @classmethod
    def of(cls, tables: frozenset[str], now: dict[str, int]) -> Versions:
        names = tuple(sorted({*tables, GENERATION}))
        return cls(names, tuple(now.get(name, 0) for name in names))


@dataclass(slots=True)
class Snapshot:
    """What the caches said before a request executed: the local clock, Redis versions."""

    stamp: int
    versions: dict[str, int] | None = None  # None: the shared store is not in use


@dataclass
class LocalStore:
    """Answers in this process, valid while none of their tables changed since `stamp`."""

    budget_bytes: int
    clock: int = 0
    cleared_at: int = 0
    changed: dict[str, int] = field(default_factory=dict)
    used_bytes: int = 0
    entries: OrderedDict[str, tuple[Answer, int, Versions | None]] = field(
        default_factory=OrderedDict
    )

    def get(self, key: str) -> tuple[Answer, Versions | None] | None:
        """The answer, and the Redis versions it still needs (None without Redis)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        answer, stamp, versions = entry
        if not self.unchanged_since(answer.tables, stamp):
            self.drop(key)
            return None
        self.entries.move_to_end(key)
        return answer, versions

    def put(self, key: str, answer: Answer, stamp: int, versions: Versions | None = None) -> None:
        if not self.unchanged_since(answer.tables, stamp) or len(answer.body) > self.budget_bytes:
            return  # read before a write it could not see: already stale
        self.drop(key)
        self.entries[key] = (answer, stamp, versions)
        self.used_bytes += len(answer.body)
        while self.used_bytes > self.budget_bytes:
            self.drop(next(iter(self.entries)))

    def unchanged_since(self, tables: frozenset[str], stamp: int) -> bool:
        changed = self.changed
        return stamp >= self.cleared_at and all(changed.get(t, 0) <= stamp for t in tables)

    def invalidate(self, tables: frozenset[str]) -> None:
        self.clock += 1
        if EVERYTHING in tables:
            self.clear()
            return
        for table in (*tables, EVERYTHING):  # an answer that read "anything" dies too
            self.changed[table] = self.clock

    def clear(self) -> None:
        self.clock += 1
        self.cleared_at = self.clock
        self.entries.clear()
        self.used_bytes = 0

    def drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.used_bytes -= len(entry[0].body)


class SharedStore:
    """Answers in Redis with the versions of their tables when they were read."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.versions_key = f"{prefix}versions"
        self.ttl_seconds = ttl_seconds
        self.owes_generation = False  # a write we could not announce: bump all when back

    async def get(self, key: str) -> tuple[Answer | None, dict[str, int]]:
        """The entry if still valid, and the versions now (the snapshot of a miss)."""
        await self.settle_debt()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.prefix + key)
            pipe.hgetall(self.versions_key)
            raw, raw_versions = await pipe.execute()
        versions = {_text(name): int(value) for name, value in raw_versions.items()}
        return (_decode(raw, versions) if raw else None), versions

    async def unchanged(self, kept: Versions) -> bool:
        """Whether no write raised one of these versions since: a local hit's one round trip."""
        await self.settle_debt()
        now = await self.redis.hmget(self.versions_key, kept.names)
        return tuple(0 if value is None else int(value) for value in now) == kept.values

    async def put(self, key: str, answer: Answer, versions: dict[str, int]) -> None:
        kept = Versions.of(answer.tables, versions)
        meta = {
            "etag": answer.etag,
            "versions": dict(zip(kept.names, kept.values, strict=True)),
            "operation": answer.operation,
        }
        header = orjson.dumps(meta)
        await self.redis.set(self.prefix + key, header + b"\n" + answer.body, ex=self.ttl_seconds)

    async def invalidate(self, tables: frozenset[str]) -> None:
        raised = {GENERATION} if EVERYTHING in tables else {*tables, EVERYTHING}
        async with self.redis.pipeline(transaction=True) as pipe:
            for table in sorted(raised):
                pipe.hincrby(self.versions_key, table, 1)
            await pipe.execute()

    async def settle_debt(self) -> None:
        if self.owes_generation:
            await self.redis.hincrby(self.versions_key, GENERATION, 1)
            self.owes_generation = False


def _decode(raw: bytes, versions: dict[str, int]) -> Answer | None:
    header, _, body = raw.partition(b"\n")
    meta = orjson.loads(header)
    kept: dict[str, int] = meta["versions"]
    if any(versions.get(table, 0) != version for table, version in kept.items()):
        return None
    return Answer(body, meta["etag"], frozenset(kept) - {GENERATION}, meta.get("operation"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ResponseCache:
    """The local and shared stores, and the invalidations that keep them exact."""

    def __init__(
        self,
        local: LocalStore,
        shared: SharedStore | None = None,
        channel: InvalidationChannel | None = None,
    ) -> None:
        self.local = local
        self.shared = shared
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._shared_down = False
        self._settling: asyncio.Task[None] | None = None
        if channel is not None:
            channel.on_message = self._heard
            channel.on_connection_change = self._connection_changed

    @classmethod
    def from_settings(cls, settings: Settings, redis_pool: ConnectionPool | None) -> ResponseCache:
        local = LocalStore(settings.response_cache_max_bytes)
        if redis_pool is None or settings.redis_url is None:
            return cls(local)
        prefix = f"{settings.pubsub_prefix}response-cache:"
        shared = SharedStore(
            Redis(connection_pool=redis_pool), prefix, settings.response_cache_ttl_seconds
        )
        return cls(local, shared, InvalidationChannel(settings.redis_url, prefix + "invalidate"))

    @property
    def local_usable(self) -> bool:
        """Without Redis this process hears every write; with it, only while subscribed."""
        return self.channel is None or self.channel.listening

    @property
    def shared_usable(self) -> bool:
        """Only while the channel is up: a Redis that cannot be reached costs a timeout on
        every request, and its answers would be dropped anyway."""
        return self.shared is not None and self.channel is not None and self.channel.listening

    async def lookup(self, key: str) -> tuple[Answer | None, Snapshot]:
        snapshot = Snapshot(self.local.clock)
        if self.shared is None:  # alone: the local clock has heard every write
            if (entry := self.local.get(key)) is not None:
                RESPONSE_CACHE.labels("hit_local").inc()
                return entry[0], snapshot
        elif self.shared_usable:
            try:
                answer = await self._lookup_with_redis(key, snapshot)
            except REDIS_ERRORS as error:
                self._outage(error)
                return None, snapshot
            self._shared_down = False
            if answer is not None:
                return answer, snapshot
        else:
            assert self.channel is not None
            self.channel.start()  # on first use: there is no event loop before
        RESPONSE_CACHE.labels("miss").inc()
        return None, snapshot

    async def _lookup_with_redis(self, key: str, snapshot: Snapshot) -> Answer | None:
        """A local answer whose Redis versions still hold, else the shared one; a miss
        leaves the versions it read in `snapshot`, for the answer executed next."""
        assert self.shared is not None
        if (entry := self.local.get(key)) is not None:
            local, kept = entry
            if kept is not None and await self.shared.unchanged(kept):
                RESPONSE_CACHE.labels("hit_local").inc()
                return local
            self.local.drop(key)  # another instance wrote one of its tables
        answer, snapshot.versions = await self.shared.get(key)
        if answer is not None:
            RESPONSE_CACHE.labels("hit_shared").inc()
            self.local.put(
                key, answer, snapshot.stamp, Versions.of(answer.tables, snapshot.versions)
            )
        return answer

    async def store(self, key: str, answer: Answer, snapshot: Snapshot) -> None:
        if len(answer.body) > MAX_ANSWER_BYTES:
            return
        if self.shared is None:
            self.local.put(key, answer, snapshot.stamp)
            return
        if snapshot.versions is not None:  # read while Redis answered: both stores
            self.local.put(
                key, answer, snapshot.stamp, Versions.of(answer.tables, snapshot.versions)
            )
            try:
                await self.shared.put(key, answer, snapshot.versions)
            except REDIS_ERRORS as error:
                self._outage(error)

    async def invalidate(self, tables: frozenset[str]) -> None:
        """After a commit (the database's write observer): here at once, then everywhere."""
        RESPONSE_CACHE.labels("invalidation").inc()
        self.local.invalidate(tables)
        if self.shared is None or self.channel is None:
            return
        try:
            await self.shared.invalidate(tables)
            message = {"origin": self.origin, "tables": sorted(tables)}
            await self.shared.redis.publish(self.channel.name, orjson.dumps(message))
        except REDIS_ERRORS as error:
            self.shared.owes_generation = True
            self._outage(error)

    def _heard(self, data: bytes) -> None:
        message = orjson.loads(data)
        if message.get("origin") != self.origin:
            self.local.invalidate(frozenset(message["tables"]))

    def _connection_changed(self, listening: bool) -> None:
        # Lost: we may miss invalidations from now on. Regained: we may have missed some.
        self.local.clear()
        if listening and self.shared is not None and self.shared.owes_generation:
            self._settling = asyncio.get_running_loop().create_task(self._settle())

    async def _settle(self) -> None:
        """Redis is back: first drop every answer a write we could not announce outdated."""
        assert self.shared is not None
        try:
            await self.shared.settle_debt()
        except REDIS_ERRORS as error:
            self._outage(error)

    def _outage(self, error: Exception) -> None:
        if not self._shared_down:
            logger.warning("response cache: Redis unreachable, no shared cache: %r", error)
        self._shared_down = True

    async def close(self) -> None:
        """The shared store's pool belongs to the rate limiter, which closes it."""
        if self.channel is not None:
            await self.channel.close()
