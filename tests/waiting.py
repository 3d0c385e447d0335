"""Waiting for a condition the test cannot be told about directly, with a deadline."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def eventually(
    check: Callable[[], Any],
    *,
    within: float = 10.0,
    interval: float = 0.02,
    what: str = "the condition",
) -> Any:
    """`check()`'s first truthy value (awaited if it is awaitable); fails after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(interval)
