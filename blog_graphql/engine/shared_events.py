"""One execution per audience: subscribers who would get the same answer to an event share
one execution of it, and one encoded payload.

The live hub hands the same decoded message to every local subscriber of a channel, and
marks it as the event being delivered (`delivering`) in the subscriber's task. When the
subscription's resolver then yields its payload, the executor looks for an answer already
worked out for that message under the key

    (the document, its variables, the payload's value, the viewer where it matters)

and otherwise executes, leaving its answer on the message for the others. The payload's
value (every attribute, private ones included) is part of the key, so subscribers whose
visibility rules gave them different payloads (a comment for its author, a bare id for
others) never share; the viewer is part of it when the document selects a field that may
answer differently per viewer (`viewer_fields.py`). An answer with errors is not shared:
each subscriber works out its own, with its own request id. The memo lives on the message,
so it goes when the last subscriber is done with the event.
"""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
from collections.abc import Awaitable, Callable, Hashable, MutableMapping
from contextvars import ContextVar
from typing import Any, Protocol, cast

import orjson
from graphql import ExecutionResult

from blog_graphql.engine.viewer_fields import ViewerDependence

# Where a message keeps the answers worked out for it.
SHARED_RESULTS = "_executions"
Scope = MutableMapping[str, Any]
_delivering: ContextVar[Scope | None] = ContextVar("blog_graphql_delivering", default=None)
VIEWER_DEPENDENCE = ViewerDependence()


class ViewerKeyed(Protocol):
    """A context that says which viewers answer alike (`Context.viewer_key`)."""

    def viewer_key(self) -> Hashable: ...


def delivering(message: Scope) -> None:
    """The message this task is about to turn into a subscription payload (the hub calls it)."""
    _delivering.set(message)


def take_delivering() -> Scope | None:
    """The message being delivered in this task, once: a payload yielded later without a
    new message (a replay, say) executes on its own."""
    scope = _delivering.get()
    if scope is not None:
        _delivering.set(None)
    return scope


class SharedData(dict[str, Any]):
    """An event's `data` served to many sockets; its payload is encoded once."""

    __slots__ = ("_encoded",)

    def encoded_payload(self) -> bytes:
        """`{"data": ...}` as JSON, for every socket alike (the transport splices it in)."""
        # Not in an `except AttributeError` block: a value JSON cannot hold raises here,
        # and its traceback is logged once, without an AttributeError chained to it.
        encoded: bytes | None = getattr(self, "_encoded", None)
        if encoded is None:
            encoded = self._encoded = orjson.dumps({"data": self})
        return encoded


Run = Callable[[], Awaitable[ExecutionResult]]


async def shared_result(scope: Scope, key: Hashable, payload: Any, run: Run) -> ExecutionResult:
    """The answer to the event for `key`: worked out here, or awaited from the subscriber
    who started it. Its owner's cancellation (a socket closing) does not cancel it.
    The payload stays with it: a key may hold the identity of an object inside it."""
    table: dict[Hashable, tuple[asyncio.Future[ExecutionResult], Any]]
    table = scope.setdefault(SHARED_RESULTS, {})
    found = table.get(key)
    if found is None:
        pending: asyncio.Future[ExecutionResult] = asyncio.ensure_future(counted(run))
        pending.add_done_callback(_retrieve_exception)
        table[key] = (pending, payload)
        return await asyncio.shield(pending)
    pending = found[0]
    try:
        result = await asyncio.shield(pending)
    except Exception:  # the first execution failed outright: this one reports its own
        return await counted(run)
    if result.errors or not isinstance(result.data, SharedData):
        return await counted(run)  # errors carry the request id: each its own
    from blog_graphql.engine import metrics  # see `counted`

    metrics.LIVE_SHARED_DELIVERIES.inc()
    return ExecutionResult(result.data, None)


async def counted(run: Run) -> ExecutionResult:
    # Imported here, not at the top: `blog_graphql.engine` is imported by the CLI before
    # `blog-graphql worker` sets PROMETHEUS_MULTIPROC_DIR, which prometheus-client reads
    # once, on its own import.
    from blog_graphql.engine import metrics

    metrics.LIVE_EXECUTIONS.inc()
    result = await run()
    if result.errors or result.data is None:
        return result
    return ExecutionResult(SharedData(result.data), None, result.extensions)


def event_key(
    operation: Any, variables: Any, payload: Any, context: Any, selects_viewer_fields: bool
) -> Hashable | None:
    """What decides the answer to one event; None when that cannot be told exactly."""
    viewer: Hashable = None
    if selects_viewer_fields:
        if not callable(getattr(context, "viewer_key", None)):
            return None
        viewer = cast(ViewerKeyed, context).viewer_key()
    try:
        return (id(operation), value_key(variables), value_key(payload), viewer)
    except TypeError:  # what orjson raises for what it cannot write
        return None


def value_key(value: Any) -> bytes:
    """A key equal for two values exactly when they read alike: written out as JSON (in C),
    each object as its class and every attribute, private ones included; anything without
    attributes or a JSON form (a row, say: the same object for every subscriber) by
    identity, kept alive with the answer in the payload. Raises TypeError for what it
    cannot write (an int past 64 bits)."""
    return orjson.dumps(value, default=_written, option=KEY_OPTIONS)


KEY_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _written(value: Any) -> Any:
    attributes = getattr(value, "__dict__", None)
    if attributes is not None and dataclasses.is_dataclass(value):  # a GraphQL object
        kind = type(value)
        return [kind.__module__, kind.__qualname__, attributes]
    if isinstance(value, decimal.Decimal | bytes):
        return [type(value).__name__, repr(value)]
    return ["id", id(value)]


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
