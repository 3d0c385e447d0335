"""Replayable event streams: what was published on a stream is kept, and read back after an id.

A stream (one per post for comments) keeps each event for at least `Retention.seconds`
and at least its last `Retention.max_events`, under ids of the Redis Streams form
`<milliseconds>-<sequence>`, which only grow. Appending is publishing: the event goes out
on its channels with its id (`"sid"`) in the same step, so the order of a stream is the
order every subscriber hears it in. This module holds the in-process streams (a bounded
ring per stream, for instances without Redis); `redis_streams` the Redis ones.

Each stream also keeps a floor: the newest id that may have been dropped (trimmed, or
lost with a stream that expired before this one was started). A reader who last saw an
id at or above the floor missed nothing; below it, the gap cannot be covered.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

StreamId = tuple[int, int]
# What a stream holds where nothing was published: an anchor for a reader's position.
MARK = b""
LAST_SEQUENCE = 2**64 - 1
_ID = re.compile(r"(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,19})")
# A stream with no write for this long is dropped whatever its retention (Redis: its TTL).
MIN_LIFETIME_SECONDS = 300


class BadStreamId(ValueError):
    """Not an id of the `<milliseconds>-<sequence>` form."""


def parse_stream_id(text: str) -> StreamId:
    found = _ID.fullmatch(text)
    if found is None or int(found[2]) > LAST_SEQUENCE:
        raise BadStreamId(text)
    return int(found[1]), int(found[2])


def format_stream_id(stream_id: StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"


def just_before(stream_id: StreamId) -> StreamId:
    milliseconds, sequence = stream_id
    return (milliseconds, sequence - 1) if sequence else (milliseconds - 1, LAST_SEQUENCE)


def with_stream_id(data: bytes, stream_id: str) -> bytes:
    """The JSON object `data` with `"sid"` first (as the Redis script writes it too)."""
    head = b'{"sid":"' + stream_id.encode() + b'"'
    return head + (b"," + data[1:] if len(data) > 2 else b"}")


@dataclass(frozen=True)
class Retention:
    """How much each stream keeps; `memory_events` bounds all in-process streams together."""

    max_events: int = 1000
    seconds: float = 86_400.0
    memory_events: int = 100_000

    @property
    def lifetime_seconds(self) -> int:
        """How long a stream lives after its last write."""
        return max(int(self.seconds + 0.999), MIN_LIFETIME_SECONDS)


@dataclass(frozen=True)
class Replay:
    """What a stream holds after a reader's id."""

    entries: list[tuple[str, bytes]]  # (id, event) after the reader's id, oldest first
    covered: bool  # False: events after the reader's id were dropped; `entries` is empty
    last: str  # the stream's newest id: live events after it are new to the reader


class StreamsUnavailable(Exception):
    """The streams cannot be read or written right now (Redis is down)."""


@dataclass
class _Ring:
    floor: StreamId
    entries: deque[tuple[StreamId, float, bytes]] = field(default_factory=deque)
    written: float = 0.0


class MemoryStreams:
    """Streams of this process: a ring per stream, bounded in memory overall."""

    def __init__(self, retention: Retention, deliver: Callable[[str, bytes], None]) -> None:
        self._retention = retention
        self._deliver = deliver
        # Least recently written first: the first to go when memory runs out.
        self._rings: OrderedDict[str, _Ring] = OrderedDict()
        self._total = 0
        self._last: StreamId = (0, 0)

    def append(self, stream: str, channels: Sequence[str], data: bytes) -> str:
        """Keep `data` and publish it on `channels` with its id, in one step (no await)."""
        now = time.time()
        stream_id = self._next_id(now)
        ring = self._ring(stream, stream_id, now)
        ring.entries.append((stream_id, now, data))
        self._total += 1
        self._trim(ring, now)
        self._bound(now)
        text = format_stream_id(stream_id)
        message = with_stream_id(data, text)
        for channel in channels:
            self._deliver(channel, message)
        return text

    def read_after(self, stream: str, after: StreamId) -> Replay:
        self._expire(time.time())
        ring = self._rings.get(stream)
        if ring is None:  # nothing kept: give the reader a position to resume from
            return Replay([], False, self.append(stream, (), MARK))
        last = format_stream_id(ring.entries[-1][0])
        if after < ring.floor:
            return Replay([], False, last)
        entries = [
            (format_stream_id(stream_id), data)
            for stream_id, _, data in ring.entries
            if stream_id > after and data != MARK
        ]
        return Replay(entries, True, last)

    def _next_id(self, now: float) -> StreamId:
        milliseconds = int(now * 1000)
        if milliseconds > self._last[0]:
            self._last = (milliseconds, 0)
        else:  # the same millisecond, or the clock went back: ids still grow
            self._last = (self._last[0], self._last[1] + 1)
        return self._last

    def _ring(self, stream: str, first_id: StreamId, now: float) -> _Ring:
        ring = self._rings.get(stream)
        if ring is None:  # whatever an earlier ring of this stream held is lost
            ring = self._rings[stream] = _Ring(floor=just_before(first_id))
        self._rings.move_to_end(stream)
        ring.written = now
        return ring

    def _trim(self, ring: _Ring, now: float) -> None:
        """Drop what is both older than the retention time and beyond the last events."""
        cutoff = now - self._retention.seconds
        entries = ring.entries
        while len(entries) > self._retention.max_events and entries[0][1] < cutoff:
            ring.floor = entries.popleft()[0]
            self._total -= 1

    def _bound(self, now: float) -> None:
        """Past the memory budget, the oldest events of the least recently written go."""
        self._expire(now)
        while self._total > self._retention.memory_events:
            stream, ring = next(iter(self._rings.items()))
            ring.floor = ring.entries.popleft()[0]
            self._total -= 1
            if not ring.entries:
                del self._rings[stream]

    def _expire(self, now: float) -> None:
        oldest = now - self._retention.lifetime_seconds
        while self._rings:
            stream, ring = next(iter(self._rings.items()))
            if ring.written >= oldest:
                return
            del self._rings[stream]
            self._total -= len(ring.entries)
