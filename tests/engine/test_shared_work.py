"""Work shared by an event's subscribers: done once, and no subscriber's cancellation (its
socket closing) takes it from the others. The live tests show the sharing end to end
(`tests/live/test_shared_execution.py`); these pin down the waiting it rests on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import ExecutionResult

from blog_graphql.engine.shared_events import (
    Abandoned,
    SharedData,
    SharedWork,
    delivering,
    shared_payload,
    shared_result,
)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_started_work_outlives_the_waiter_that_started_it():
    gate = asyncio.Event()
    runs = []

    async def load() -> str:
        runs.append(1)
        await gate.wait()
        return "loaded"

    work = SharedWork.started(load())
    first = asyncio.create_task(work.result())
    others = [asyncio.create_task(work.result()) for _ in range(3)]
    await settle()
    first.cancel()
    await settle()
    gate.set()
    assert await asyncio.gather(*others) == ["loaded"] * 3
    assert first.cancelled() and runs == [1]


async def test_waiters_after_the_work_is_done_take_its_result_without_suspending():
    work: SharedWork[int] = SharedWork.owned()
    assert await work.work_out(asyncio.sleep(0, 7)) == 7
    waiter = work.result().__await__()
    with pytest.raises(StopIteration) as finished:  # done at its first step
        waiter.send(None)
    assert finished.value.value == 7


async def test_a_failure_reaches_every_waiter():
    async def broken() -> str:
        await asyncio.sleep(0)
        raise LookupError("gone")

    work = SharedWork.started(broken())
    results = await asyncio.gather(work.result(), work.result(), return_exceptions=True)
    assert [type(result) for result in results] == [LookupError, LookupError]


async def test_an_owner_cancelled_halfway_leaves_the_others_to_work_it_out():
    work: SharedWork[str] = SharedWork.owned()
    owner = asyncio.create_task(work.work_out(asyncio.sleep(10, "never")))
    waiter = asyncio.create_task(work.result())
    await settle()
    owner.cancel()
    with pytest.raises(Abandoned):
        await waiter
    assert owner.cancelled()


async def test_shared_result_runs_once_for_a_key_and_again_when_its_owner_is_abandoned():
    scope: dict[str, Any] = {}
    runs = []
    gate = asyncio.Event()

    async def run() -> ExecutionResult:
        runs.append(1)
        await gate.wait()
        return ExecutionResult({"n": len(runs)}, None)

    owner = asyncio.create_task(shared_result(scope, "k", None, run))
    followers = [asyncio.create_task(shared_result(scope, "k", None, run)) for _ in range(3)]
    await settle()
    assert runs == [1]
    owner.cancel()  # its socket closed before the answer: each follower works out its own
    await settle()
    gate.set()
    answers = [(await follower).data for follower in followers]
    assert runs == [1, 1, 1, 1]
    assert all(isinstance(data, SharedData) for data in answers)

    scope, runs[:] = {}, []
    together = await asyncio.gather(*(shared_result(scope, "k", None, run) for _ in range(4)))
    assert runs == [1] and [answer.data for answer in together] == [{"n": 1}] * 4


def test_a_payload_is_built_once_per_source_and_event():
    source, other = object(), object()
    built = []

    def build() -> list[int]:
        built.append(1)
        return [len(built)]

    async def in_a_task(message: dict[str, Any]) -> tuple[list[int], list[int], list[int]]:
        delivering(message)
        return (
            shared_payload(source, build),
            shared_payload(source, build),
            shared_payload(other, build),
        )

    first, again, apart = asyncio.run(in_a_task({}))
    assert first is again and apart is not first
    next_event, _, _ = asyncio.run(in_a_task({}))
    assert next_event is not first  # a new message: built anew
    assert shared_payload(source, build) is not shared_payload(source, build)  # no event
