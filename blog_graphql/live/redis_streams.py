"""Replayable event streams in Redis: one Redis Stream per stream, shared by every instance.

Appending runs one Lua script, so that Redis does it as one step: XADD the event, trim,
refresh the TTL and PUBLISH the event with its id on each channel. No other instance's
event can come between the append and the publish, so every subscriber, on every
instance, hears a stream's events in the stream's order, and a reader who subscribed
before reading the stream finds each event either in what it read or in what it hears.

Beside each stream `<stream>:floor` holds the newest id that may have been dropped (see
`live.streams`). Trimming keeps every event younger than the retention time and the last
`max_events`; it runs only once the stream is a tenth over its count and its oldest event
a tenth past its time, so a write costs O(1) amortised rather than a scan each time.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from blog_graphql.live.streams import (
    MARK,
    Replay,
    Retention,
    StreamId,
    StreamsUnavailable,
    format_stream_id,
    parse_stream_id,
)

APPEND = """
local function parts(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), string.sub(id, dash + 1)
end
local function before(id)
  local ms, seq = parts(id)
  if seq ~= '0' then return string.format('%d-%d', ms, tonumber(seq) - 1) end
  return string.format('%d-18446744073709551615', ms - 1)
end
local stream, floor = KEYS[1], KEYS[2]
local data, max, seconds, lifetime = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local created = redis.call('EXISTS', stream) == 0
local id = redis.call('XADD', stream, '*', 'e', data)
if created then redis.call('SET', floor, before(id)) end
if redis.call('XLEN', stream) > max + math.max(1, math.floor(max / 10)) then
  local now = redis.call('TIME')
  local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - seconds * 1000
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][1]
  if parts(head) <= cutoff - seconds * 100 then
    local kept = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', max)
    local minid = kept[#kept][1]
    if parts(minid) > cutoff then minid = string.format('%d-0', cutoff) end
    local dropped = redis.call('XREVRANGE', stream, '(' .. minid, '-', 'COUNT', 1)
    if #dropped > 0 then
      redis.call('XTRIM', stream, 'MINID', minid)
      redis.call('SET', floor, dropped[1][1])
    end
  end
end
redis.call('EXPIRE', stream, lifetime)
redis.call('EXPIRE', floor, lifetime)
if #ARGV > 4 then
  local message = '{"sid":"' .. id .. '"'
  if string.len(data) > 2 then message = message .. ',' .. string.sub(data, 2)
  else message = message .. '}' end
  for i = 5, #ARGV do redis.call('PUBLISH', ARGV[i], message) end
end
return id
"""

CONNECTION_ERRORS = (RedisError, OSError)


class RedisStreams:
    """Streams kept in Redis, written and read on the given (pooled) client."""

    def __init__(self, client: Redis, retention: Retention) -> None:
        self._client = client
        self._retention = retention
        self._append = client.register_script(APPEND)

    async def append(self, stream: str, channels: Sequence[str], data: bytes) -> str:
        retention = self._retention
        arguments: list[bytes | str | int | float] = [
            data, retention.max_events, retention.seconds, retention.lifetime_seconds, *channels
        ]  # fmt: skip
        try:
            stream_id = await self._append(keys=[stream, floor_key(stream)], args=arguments)
        except CONNECTION_ERRORS as error:
            raise StreamsUnavailable(str(error) or type(error).__name__) from error
        return _text(stream_id)

    async def read_after(self, stream: str, after: StreamId) -> Replay:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(floor_key(stream))
                pipe.xrevrange(stream, count=1)
                pipe.xrange(stream, min=f"({format_stream_id(after)}")
                floor, newest, entries = await pipe.execute()
        except CONNECTION_ERRORS as error:
            raise StreamsUnavailable(str(error) or type(error).__name__) from error
        if not newest:  # nothing kept: give the reader a position to resume from
            return Replay([], False, await self.append(stream, (), MARK))
        last = _text(newest[0][0])
        # No floor (evicted by Redis on its own): assume everything may have been dropped.
        if after < parse_stream_id(_text(floor) if floor is not None else last):
            return Replay([], False, last)
        kept = [(_text(stream_id), fields[b"e"]) for stream_id, fields in entries]
        return Replay([entry for entry in kept if entry[1] != MARK], True, last)


def floor_key(stream: str) -> str:
    return f"{stream}:floor"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
