"""Presence in Redis: two sorted sets per post whose scores are the entries' expiries.

`<prefix>presence:post:<id>:readers` holds reader entries, `...:typing` user ids; an
entry counts while its score is in the future. Writers drop lapsed entries and keep each
key's own expiry just past its longest entry, so a post nobody watches leaves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from blog_graphql.presence.store import WALL_CLOCK, Clock, Snapshot, snapshot_of


class RedisPresenceStore:
    def __init__(self, redis: Redis, prefix: str, clock: Clock = WALL_CLOCK) -> None:
        self.clock = clock
        self._redis = redis
        self._prefix = prefix

    def readers_key(self, post_id: int) -> str:
        return f"{self._prefix}presence:post:{post_id}:readers"

    def typing_key(self, post_id: int) -> str:
        return f"{self._prefix}presence:post:{post_id}:typing"

    async def add_reader(self, post_id: int, entry: str, expires_at: float) -> None:
        key = self.readers_key(post_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {entry: expires_at})
            pipe.expire(key, self._key_lifetime(expires_at))
            await pipe.execute()

    async def remove_reader(self, post_id: int, entry: str) -> None:
        await self._redis.zrem(self.readers_key(post_id), entry)

    async def refresh_readers(
        self, entries: Mapping[int, Sequence[str]], expires_at: float
    ) -> None:
        if not entries:
            return
        now = self.clock()
        async with self._redis.pipeline(transaction=False) as pipe:
            for post_id, post_entries in entries.items():
                key = self.readers_key(post_id)
                pipe.zremrangebyscore(key, "-inf", now)
                if post_entries:  # XX: an entry removed meanwhile is not brought back
                    pipe.zadd(key, dict.fromkeys(post_entries, expires_at), xx=True)
                pipe.expire(key, self._key_lifetime(expires_at))
            await pipe.execute()

    async def start_typing(self, post_id: int, user_id: int, expires_at: float) -> bool:
        key = self.typing_key(post_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zscore(key, user_id)
            pipe.zadd(key, {str(user_id): expires_at})
            pipe.zremrangebyscore(key, "-inf", self.clock())
            pipe.expire(key, self._key_lifetime(expires_at))
            previous, *_ = await pipe.execute()
        return previous is None or float(previous) <= self.clock()

    async def stop_typing(self, post_id: int, user_id: int) -> bool:
        return bool(await self._redis.zrem(self.typing_key(post_id), user_id))

    async def snapshot(self, post_id: int) -> Snapshot:
        now = self.clock()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(self.readers_key(post_id), f"({now}", "+inf", withscores=True)
            pipe.zrangebyscore(self.typing_key(post_id), f"({now}", "+inf", withscores=True)
            readers, typers = await pipe.execute()
        return snapshot_of(
            ((_text(entry), float(expiry)) for entry, expiry in readers),
            ((int(user_id), float(expiry)) for user_id, expiry in typers),
        )

    async def close(self) -> None:
        await self._redis.aclose()

    def _key_lifetime(self, expires_at: float) -> int:
        return max(1, math.ceil(expires_at - self.clock()) + 1)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
