"""BatchLoader keeps aiodataloader's contract while waiting on one future per batch.

The last test runs one script on both and compares what each answered and read.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiodataloader import DataLoader

from blog_graphql.engine.loading import BatchLoader


class Squares:
    """A batch function that records every batch it is called with."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_with = fail_with
        self.release = asyncio.Event()
        self.release.set()
        self.called = asyncio.Event()  # set once a batch has started

    async def load(self, keys: list[int]) -> list[int | Exception]:
        self.batches.append(keys)
        self.called.set()
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [ValueError(f"no {key}") if key < 0 else key * key for key in keys]


async def test_the_keys_of_one_tick_are_one_batch_each_key_once() -> None:
    squares = Squares()
    loader = BatchLoader(squares.load)
    many = loader.load_many([3, 1, 3])
    one = loader.load(2)
    assert await many == [9, 1, 9]
    assert await one == 4
    assert squares.batches == [[3, 1, 2]]


async def test_a_load_one_turn_of_the_loop_later_joins_the_batch() -> None:
    squares = Squares()
    loader = BatchLoader(squares.load)
    later: list[asyncio.Future[int | Exception]] = []
    first = loader.load(1)
    asyncio.get_running_loop().call_soon(lambda: later.append(loader.load(2)))
    assert await first == 1
    assert await later[0] == 4
    assert squares.batches == [[1, 2]]


async def test_loaded_keys_are_cached_and_only_new_keys_are_read() -> None:
    squares = Squares()
    loader = BatchLoader(squares.load)
    assert await loader.load_many([1, 2]) == [1, 4]
    assert await loader.load_many([2, 3, 1]) == [4, 9, 1]
    assert await loader.load_many([]) == []
    assert squares.batches == [[1, 2], [3]]


async def test_a_key_whose_value_is_an_error_raises_it_for_that_key_only() -> None:
    squares = Squares()
    loader = BatchLoader(squares.load)
    missing, found = loader.load(-1), loader.load(5)
    with pytest.raises(ValueError, match="no -1"):
        await missing
    assert await found == 25
    with pytest.raises(ValueError, match="no -1"):
        await loader.load_many([5, -1])  # cached: the same error, no second read
    assert squares.batches == [[-1, 5]]


async def test_a_failed_batch_fails_every_caller_and_is_read_again_when_asked() -> None:
    squares = Squares(fail_with=ConnectionError("database away"))
    loader = BatchLoader(squares.load)
    callers: list[asyncio.Future[Any]] = [loader.load(1), loader.load_many([1, 2])]
    for caller in callers:
        with pytest.raises(ConnectionError, match="database away"):
            await caller
    squares.fail_with = None
    assert await loader.load_many([1, 2]) == [1, 4]
    assert squares.batches == [[1, 2], [1, 2]]


async def test_a_batch_of_the_wrong_length_is_an_error_for_its_callers() -> None:
    async def short(keys: list[int]) -> list[int]:
        return keys[:-1]

    loader = BatchLoader(short)
    with pytest.raises(TypeError, match="returned 1 values for 2 keys"):
        await loader.load_many([1, 2])


async def test_a_cancelled_caller_leaves_the_others_waiting_on_its_keys_their_values() -> None:
    squares = Squares()
    squares.release.clear()
    loader = BatchLoader(squares.load)

    async def ask(keys: list[int]) -> list[int | Exception]:
        return await loader.load_many(keys)

    cancelled = asyncio.create_task(ask([1, 2]))
    patient = asyncio.create_task(ask([2, 1]))
    await squares.called.wait()  # both wait on the batch, which waits on `release`
    cancelled.cancel()
    squares.release.set()
    assert await patient == [4, 1]
    assert cancelled.cancelled()
    assert await loader.load_many([1, 2]) == [1, 4]  # cached by the batch all the same
    assert squares.batches == [[1, 2]]


async def test_a_primed_key_is_not_read_and_a_cleared_key_is_read_again() -> None:
    squares = Squares()
    loader = BatchLoader(squares.load)
    loader.prime(7, 0)
    assert await loader.load(7) == 0
    loader.clear(7)
    assert await loader.load(7) == 49
    loader.clear_all()
    assert await loader.load_many([7, 2]) == [49, 4]
    assert squares.batches == [[7], [7, 2]]


async def test_a_key_cleared_while_loading_still_answers_its_callers() -> None:
    squares = Squares()
    squares.release.clear()
    loader = BatchLoader(squares.load)
    waiting = loader.load(3)
    await squares.called.wait()
    loader.clear(3)
    squares.release.set()
    assert await waiting == 9
    assert await loader.load(3) == 9
    assert squares.batches == [[3], [3]]  # cleared, so not cached from the first batch


async def test_load_needs_a_key() -> None:
    with pytest.raises(TypeError, match="must be called with a value"):
        BatchLoader(Squares().load).load(None)  # type: ignore[arg-type]


async def script(loader: Any) -> list[Any]:
    """Loads, cached keys, errors, priming and clearing; what each step answered."""
    answers: list[Any] = []

    async def ask(future: Any) -> None:
        try:
            answers.append(await future)
        except Exception as error:
            answers.append(f"{type(error).__name__}: {error}")

    await ask(loader.load_many([3, 1, 3]))
    await ask(loader.load(-2))
    await ask(loader.load_many([1, 4, -2]))
    loader.prime(10, 0)
    await ask(loader.load_many([10, 5]))
    loader.clear(10)
    await ask(loader.load(10))
    loader.clear_all()
    await ask(loader.load_many([1, 2]))
    return answers


async def test_it_answers_and_reads_as_aiodataloaders_data_loader() -> None:
    ours, theirs = Squares(), Squares()
    assert await script(BatchLoader(ours.load)) == await script(DataLoader(theirs.load))
    assert ours.batches == theirs.batches
    assert ours.batches == [[3, 1], [-2], [4], [5], [10], [1, 2]]
