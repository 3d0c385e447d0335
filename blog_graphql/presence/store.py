"""Where presence lives: readers and typers per post, each entry with its expiry time.

Readers are entries `<viewer>|<instance>`: a signed-in viewer is `u:<user id>` whatever
the instance, an anonymous socket `s:<instance>:<socket>`; each instance keeps one
entry per viewer it serves and refreshes it by heartbeat, so `readers` counts distinct
viewers however many sockets or instances carry them, and a crashed instance's entries
lapse by themselves. Typers are user ids. Without Redis the same lives in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

Clock = Callable[[], float]
WALL_CLOCK: Clock = time.time  # expiries are shared by instances: wall-clock seconds
K = TypeVar("K")


@dataclass(frozen=True)
class Snapshot:
    """A post's presence at one moment, and when it next changes by itself (a lapse)."""

    readers: int
    typing: tuple[int, ...]  # user ids, ascending
    next_lapse: float | None


def reader_entry(viewer: str, instance: str) -> str:
    return f"{viewer}|{instance}"


def snapshot_of(
    readers: Iterable[tuple[str, float]], typers: Iterable[tuple[int, float]]
) -> Snapshot:
    """From the live entries (expiries in the future) with their expiries."""
    reader_list, typer_list = list(readers), list(typers)
    viewers = {entry.rpartition("|")[0] for entry, _ in reader_list}
    expiries = [expiry for _, expiry in reader_list] + [expiry for _, expiry in typer_list]
    return Snapshot(
        readers=len(viewers),
        typing=tuple(sorted(user_id for user_id, _ in typer_list)),
        next_lapse=min(expiries) if expiries else None,
    )


class PresenceStore(Protocol):
    """Readers and typers of each post; every method is one round trip at most."""

    clock: Clock

    async def add_reader(self, post_id: int, entry: str, expires_at: float) -> None: ...

    async def remove_reader(self, post_id: int, entry: str) -> None: ...

    async def refresh_readers(
        self, entries: Mapping[int, Sequence[str]], expires_at: float
    ) -> None:
        """Push the expiry of entries still present (a removed one stays removed)."""
        ...

    async def start_typing(self, post_id: int, user_id: int, expires_at: float) -> bool:
        """True when the user was not typing (the state changed), False on a renewal."""
        ...

    async def stop_typing(self, post_id: int, user_id: int) -> bool: ...

    async def snapshot(self, post_id: int) -> Snapshot: ...

    async def close(self) -> None: ...


class MemoryPresenceStore:
    """The store without Redis: this process's own dictionaries."""

    def __init__(self, clock: Clock = WALL_CLOCK) -> None:
        self.clock = clock
        self._readers: dict[int, dict[str, float]] = {}
        self._typers: dict[int, dict[int, float]] = {}

    async def add_reader(self, post_id: int, entry: str, expires_at: float) -> None:
        self._readers.setdefault(post_id, {})[entry] = expires_at

    async def remove_reader(self, post_id: int, entry: str) -> None:
        self._live(self._readers, post_id).pop(entry, None)

    async def refresh_readers(
        self, entries: Mapping[int, Sequence[str]], expires_at: float
    ) -> None:
        for post_id, post_entries in entries.items():
            present = self._live(self._readers, post_id)
            for entry in post_entries:
                if entry in present:
                    present[entry] = expires_at

    async def start_typing(self, post_id: int, user_id: int, expires_at: float) -> bool:
        typers = self._live(self._typers, post_id)
        was_typing = user_id in typers
        typers[user_id] = expires_at
        self._typers[post_id] = typers
        return not was_typing

    async def stop_typing(self, post_id: int, user_id: int) -> bool:
        return self._live(self._typers, post_id).pop(user_id, None) is not None

    async def snapshot(self, post_id: int) -> Snapshot:
        readers = self._live(self._readers, post_id)
        typers = self._live(self._typers, post_id)
        return snapshot_of(readers.items(), typers.items())

    async def close(self) -> None:
        return None

    def _live(self, table: dict[int, dict[K, float]], post_id: int) -> dict[K, float]:
        """The post's entries that have not lapsed; lapsed ones are dropped on the way."""
        now = self.clock()
        entries = {key: expiry for key, expiry in table.get(post_id, {}).items() if expiry > now}
        if entries:
            table[post_id] = entries
        else:
            table.pop(post_id, None)
        return entries
