"""The request's loaders: aiodataloader's contract, waiting on one future per batch.

aiodataloader's `DataLoader` gives every key its own future and `load_many` gathers them:
a feed page asks its loaders for about 200 keys, so 200 futures, 200 done-callbacks and a
gather each time, a tenth of the request's CPU for bookkeeping. `BatchLoader` stands alone
(it used to subclass `DataLoader` while overriding all of it, which silently ignored
options such as `max_batch_size`) and keeps the same contract: a batch function called
once with every key asked for in one tick, values cached per key for the request, a failed
batch cached for no key, a per-key `Exception` value raised to whoever asks for that key.
It has no options: no batch size cap (a page's keys are bounded by `first` <= 100), and
always a cache. `tests/performance/test_batch_loader.py` holds it to aiodataloader's answers.

It also does not share a key's future between callers: a caller cancelled while waiting
cancels its own future only, never the cached value another caller is waiting for.
"""

from __future__ import annotations

import asyncio
from asyncio import Future, Task
from collections.abc import Callable, Coroutine, Iterable
from itertools import repeat
from operator import itemgetter
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Shaped = TypeVar("Shaped")
BatchValues = dict[Any, Any]  # what one batch found, by key
BatchLoad = Callable[[list[K]], Coroutine[Any, Any, list[V]]]


class BatchLoader(Generic[K, V]):
    """A data loader whose callers wait on their keys' batches rather than on each key."""

    def __init__(self, batch_load_fn: BatchLoad[K, V]) -> None:
        self.batch_load_fn = batch_load_fn
        self._loop: asyncio.AbstractEventLoop | None = None  # the request's, once first used
        self._found: dict[K, V] = {}  # every key loaded so far, and its value or error
        self._loading: dict[K, Future[BatchValues]] = {}  # keys whose batch still runs
        self._queued: list[K] = []  # keys of the batch that starts next
        self._next: Future[BatchValues] | None = None
        self._running: set[Task[None]] = set()  # referenced, so never collected mid-run
        self._has_errors = False  # whether any key's value is an error: else none to look for

    def load(self, key: K) -> Future[V]:
        if key is None:
            raise TypeError(
                "The loader.load() function must be called with a value, but got: None."
            )
        return self._when_loaded([key], itemgetter(0))

    def load_many(self, keys: Iterable[K]) -> Future[list[V]]:
        return self._when_loaded(list(keys), list)

    def prime(self, key: K, value: V) -> BatchLoader[K, V]:
        if key not in self._found and key not in self._loading:
            self._found[key] = value
            self._has_errors |= isinstance(value, Exception)
        return self

    def clear(self, key: K) -> BatchLoader[K, V]:
        self._found.pop(key, None)
        self._loading.pop(key, None)
        return self

    def clear_all(self) -> BatchLoader[K, V]:
        self._found.clear()
        self._loading.clear()
        return self

    def _when_loaded(self, keys: list[K], shape: Callable[[list[V]], Shaped]) -> Future[Shaped]:
        """A future of `shape(values of keys)`, set once every batch they wait on is done."""
        result: Future[Shaped] = (self._loop or self._bind_loop()).create_future()
        found, loading = self._found, self._loading
        waiting: dict[K, Future[BatchValues]] = {}
        for key in keys:
            if key in found or key in waiting:
                continue
            batch = loading.get(key)
            if batch is None:  # the next batch reads it (a loop this hot inlines that)
                batch = loading[key] = self._next or self._start_batch()
                self._queued.append(key)
            waiting[key] = batch
        batches = set(waiting.values())
        if not batches:
            self._settle(result, keys, waiting, shape)
            return result
        unfinished = len(batches)

        def batch_done(batch: Future[BatchValues]) -> None:
            nonlocal unfinished
            error = batch.exception()  # read even when unused: an unread error gets logged
            if result.done():
                return  # its caller was cancelled, or an earlier batch failed
            if error is not None:
                result.set_exception(error)
                return
            unfinished -= 1
            if unfinished == 0:
                self._settle(result, keys, waiting, shape)

        for batch in batches:
            batch.add_done_callback(batch_done)
        return result

    def _settle(
        self,
        result: Future[Shaped],
        keys: list[K],
        waiting: dict[K, Future[BatchValues]],
        shape: Callable[[list[V]], Shaped],
    ) -> None:
        # A key waited on is read from its batch: `clear` may have dropped it from the cache.
        values = [
            waiting[key].result()[key] if key in waiting else self._found[key] for key in keys
        ]
        error = None
        if self._has_errors:
            error = next((value for value in values if isinstance(value, Exception)), None)
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(shape(values))

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _start_batch(self) -> Future[BatchValues]:
        loop = self._loop or self._bind_loop()
        batch = self._next = loop.create_future()
        task = loop.create_task(self._dispatch())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return batch

    async def _dispatch(self) -> None:
        # One more turn of the loop before taking the queue, as aiodataloader does: loads
        # made in the same tick, and those made by the callbacks it runs, join this batch.
        await asyncio.sleep(0)
        keys, batch = self._queued, self._next
        assert batch is not None
        self._queued, self._next = [], None
        try:
            values = list(await self.batch_load_fn(keys))
            if len(values) != len(keys):
                raise TypeError(
                    f"The batch function returned {len(values)} values for {len(keys)} keys."
                )
        except Exception as error:
            self._fail(keys, batch, error)
            return
        except BaseException:  # cancelled: its callers must still hear, not wait forever
            self._fail(keys, batch, RuntimeError("loading was cancelled"))
            raise
        found = dict(zip(keys, values, strict=True))
        self._has_errors |= any(map(isinstance, values, repeat(Exception)))
        for key, value in found.items():
            if self._loading.get(key) is batch:  # not cleared meanwhile
                self._found[key] = value
        self._forget(keys, batch)
        batch.set_result(found)

    def _fail(self, keys: list[K], batch: Future[BatchValues], error: Exception) -> None:
        self._forget(keys, batch)  # a failed batch is cached for no key: asked again, it reloads
        batch.set_exception(error)

    def _forget(self, keys: list[K], batch: Future[BatchValues]) -> None:
        for key in keys:
            if self._loading.get(key) is batch:
                del self._loading[key]
