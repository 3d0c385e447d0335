"""Wires logs, metrics and traces into the app: one call per concern from the shared modules."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.extensions import SchemaExtension

from blog_graphql.observability import metrics, tracing
from blog_graphql.observability.operation_observer import ObserveOperations

if TYPE_CHECKING:
    from blog_graphql.db.database import Database
T = TypeVar("T")
Batch = Callable[[list[Any]], Coroutine[Any, Any, list[T]]]


def schema_extensions() -> list[type[SchemaExtension]]:
    """Per-operation hooks; a per-field one only while tracing is on (it costs every field)."""
    per_field = [tracing.TraceResolvers] if tracing.enabled() else []
    return [ObserveOperations, tracing.TraceOperations, *per_field]


def instrument_database(db: Database) -> None:
    """Pool gauges always; a span per statement when tracing is on (both once per engine)."""
    metrics.instrument_pool(db.engine)
    if tracing.enabled():
        tracing.trace_statements(db.engine)


def observed_batch(name: str, batch: Batch[T]) -> Batch[T]:
    """A dataloader batch function that reports its size and runs in its own span."""
    traced = tracing.traced_batch(name, batch)

    async def run(keys: list[Any]) -> list[T]:
        metrics.observe_batch(name, len(keys))
        return await traced(keys)

    return run


def loader_name(batch: Callable[..., Any]) -> str:
    """`load_users` -> `users`: the label dataloader metrics and spans use."""
    name: str = getattr(batch, "__name__", "loader")
    return name.removeprefix("load_")
