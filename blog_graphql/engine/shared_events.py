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
from collections.abc import Awaitable, Callable, Coroutine, Hashable, MutableMapping
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar, cast

import orjson
from graphql import ExecutionResult

from blog_graphql.engine.viewer_fields import ViewerDependence

# Where a message keeps the answers worked out for it, the payloads made of it and their keys.
SHARED_RESULTS = "_executions"
SHARED_PAYLOADS = "_payloads"
PAYLOAD_KEYS = "_payload_keys"
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
T = TypeVar("T")


class Abandoned(Exception):
    """The subscriber working out a shared answer was cancelled (its socket closed) before
    it had one: the others work it out for themselves."""


class SharedWork(Generic[T]):
    """Work done once for an event's subscribers: one of them starts it, the others await it.

    As with `asyncio.shield`, a waiter's cancellation (its socket closing) cancels only its
    own wait, never the work the others wait for. But a thousand subscribers wait on every
    event: here each waiter costs one future, and one callback wakes them all, where a
    shield costs two futures and two callbacks a waiter.
    """

    __slots__ = ("_waiters", "outcome")

    def __init__(self, outcome: asyncio.Future[T]) -> None:
        self.outcome = outcome
        self._waiters: list[asyncio.Future[None]] = []
        outcome.add_done_callback(self._wake)
        outcome.add_done_callback(_retrieve_exception)  # each waiter meets it in `result`

    @classmethod
    def started(cls, work: Coroutine[Any, Any, T]) -> SharedWork[T]:
        """The work in a task of its own (a load: it waits on the database anyway)."""
        return cls(asyncio.ensure_future(work))

    @classmethod
    def owned(cls) -> SharedWork[T]:
        """Work its first subscriber does in its own task (`work_out`). An execution over a
        loaded payload usually ends without waiting on anything: the other subscribers,
        who run after it, then take its answer without suspending at all."""
        return cls(asyncio.get_running_loop().create_future())

    async def work_out(self, work: Awaitable[T]) -> T:
        """Do the owned work here, and leave its outcome to the others."""
        try:
            result = await work
        except Exception as error:
            self.outcome.set_exception(error)
            raise
        except BaseException:  # cancelled (its socket closed), or the process is stopping
            self.outcome.set_exception(Abandoned())
            raise
        self.outcome.set_result(result)
        return result

    async def result(self) -> T:
        """The work's result, or its exception raised here."""
        if not self.outcome.done():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        return self.outcome.result()

    def _wake(self, _: asyncio.Future[T]) -> None:
        for waiter in self._waiters:
            if not waiter.done():  # a cancelled waiter stays cancelled
                waiter.set_result(None)
        self._waiters.clear()


def shared_payload(source: object, build: Callable[[], T]) -> T:
    """The subscription payload made of `source` (what a feed yields, the same object for
    every subscriber given the same view of the event), built once per delivered event:
    the subscribers who share it then share its key's encoding too (`payload_key`)."""
    scope = _delivering.get()
    if scope is None:
        return build()
    return _once_per_object(scope, SHARED_PAYLOADS, source, build)


def _once_per_object(scope: Scope, name: str, of: object, make: Callable[[], T]) -> T:
    """What `make` gives for the object `of`, kept in the scope's table `name` by identity;
    the object is kept beside it, so its id stays its own while the scope lives."""
    table: dict[int, tuple[object, T]] = scope.setdefault(name, {})
    found = table.get(id(of))
    if found is None or found[0] is not of:
        found = table[id(of)] = (of, make())
    return found[1]


async def shared_result(scope: Scope, key: Hashable, payload: Any, run: Run) -> ExecutionResult:
    """The answer to the event for `key`: worked out here, or awaited from the subscriber
    who started it. Its owner's cancellation (a socket closing) does not cancel it.
    The payload stays with it: a key may hold the identity of an object inside it."""
    table: dict[Hashable, tuple[SharedWork[ExecutionResult], Any]]
    table = scope.setdefault(SHARED_RESULTS, {})
    found = table.get(key)
    if found is None:
        work: SharedWork[ExecutionResult] = SharedWork.owned()
        table[key] = (work, payload)
        return await work.work_out(counted(run))
    try:
        result = await found[0].result()
    except Exception:  # the first execution failed outright, or was abandoned: this one
        return await counted(run)  # works out (and reports) its own
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
    operation: Any,
    variables: Any,
    payload: Any,
    context: Any,
    selects_viewer_fields: bool,
    scope: Scope | None = None,
) -> Hashable | None:
    """What decides the answer to one event; None when that cannot be told exactly."""
    viewer: Hashable = None
    if selects_viewer_fields:
        if not callable(getattr(context, "viewer_key", None)):
            return None
        viewer = cast(ViewerKeyed, context).viewer_key()
    try:
        return (id(operation), value_key(variables), payload_key(scope, payload), viewer)
    except TypeError:  # what orjson raises for what it cannot write
        return None


def payload_key(scope: Scope | None, payload: Any) -> bytes:
    """`value_key(payload)`, worked out once per payload object and event (raises TypeError
    as it does); a payload built with `shared_payload` is one object for its audience."""
    if scope is None:
        return value_key(payload)
    return _once_per_object(scope, PAYLOAD_KEYS, payload, lambda: value_key(payload))


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
