"""One load per message per instance, whatever the number of local subscribers.

The hub decodes a message once and hands the same dict to every local subscriber of its
channel; the first subscriber to read it starts the load and leaves the task on the
message, and the others await the same task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from blog_graphql.engine import SharedWork
from blog_graphql.live import closecodes
from blog_graphql.live.pubsub import Event, Subscriber

logger = logging.getLogger("blog_graphql.live")

# Where the shared load of a delivered message is kept, on the message itself.
LOADING = "_loading"
T = TypeVar("T")


async def shared_load(
    message: Event,
    subscriber: Subscriber,
    load: Callable[[Event], Coroutine[Any, Any, T]],
) -> T:
    """What `load` makes of the message, run by the first of this instance's subscribers
    to read it and awaited by the others. A failed load is logged once; every subscriber
    may then have missed an event, so each is dropped (its socket closes with 1012 and the
    client reconnects and refetches)."""
    if LOADING not in message:
        work = message[LOADING] = SharedWork.started(load(message))
        work.outcome.add_done_callback(_log_failure)
    try:
        loaded: T = await message[LOADING].result()
    except Exception:
        subscriber.drop(closecodes.STREAM_INTERRUPTED, "An event could not be loaded")
        await asyncio.Future()  # its socket is closing; the operation is cancelled with it
        raise
    return loaded


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("could not load an event for its subscribers", exc_info=error)
