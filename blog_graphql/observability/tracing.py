"""Optional OpenTelemetry tracing (the `tracing` extra), off unless `TRACING_EXPORTER` is set.

Spans: one per GraphQL operation (continuing a caller's W3C `traceparent`), one per
resolver that awaits (the expensive ones: cheap field reads get none), one per dataloader
batch and one per SQL statement. Spans never carry variables, arguments or SQL parameters,
which hold passwords and tokens. `inject`/`continue_trace` carry a trace across a queue.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLResolveInfo
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension
from strawberry.extensions.utils import is_introspection_field

from blog_graphql.config.settings import ConfigError, Settings
from blog_graphql.observability.sql_events import listen_once

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

T = TypeVar("T")
SERVICE_NAME = "blog-graphql"
_SPAN_KEY = "_blog_graphql_span"


class _Tracing:
    tracer: Tracer | None = None


_tracing = _Tracing()


def enabled() -> bool:
    return _tracing.tracer is not None


def check_tracing(settings: Settings) -> None:
    """Fail at start-up, in one line, when tracing is asked for but not installed."""
    wanted = settings.tracing_exporter != "none"
    if wanted and importlib.util.find_spec("opentelemetry.sdk") is None:
        raise ConfigError("TRACING_EXPORTER: install the tracing extra: blog-graphql[tracing]")


def configure_tracing(settings: Settings) -> None:
    """Install the exporter named by TRACING_EXPORTER (see `check_tracing`)."""
    check_tracing(settings)
    if settings.tracing_exporter == "none":
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME, when set, names the service; our default otherwise.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings.tracing_exporter)))
    trace.set_tracer_provider(provider)
    use_provider(provider)


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint and headers from OTEL_EXPORTER_OTLP_* variables


def use_provider(provider: TracerProvider | None) -> None:
    """Trace through `provider` (tests pass one with an in-memory exporter); None: stop."""
    _tracing.tracer = provider.get_tracer("blog_graphql") if provider is not None else None


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span | None]:
    """A child span of the current one, or nothing when tracing is off."""
    if _tracing.tracer is None:
        yield None
        return
    with _tracing.tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def traced_batch(
    name: str, batch: Callable[[list[Any]], Coroutine[Any, Any, list[T]]]
) -> Callable[[list[Any]], Coroutine[Any, Any, list[T]]]:
    async def run(keys: list[Any]) -> list[T]:
        with span(f"dataloader {name}", **{"dataloader.batch_size": len(keys)}):
            return await batch(keys)

    return run


# --- GraphQL ---------------------------------------------------------------------------


class TraceOperations(SchemaExtension):
    """A span per operation (its resolvers' spans come from `TraceResolvers`)."""

    def on_operation(self) -> Iterator[None]:
        tracer = _tracing.tracer
        if tracer is None:
            yield
            return
        with tracer.start_as_current_span(
            "graphql", context=_incoming_context(self.execution_context.context), kind=_server()
        ) as operation:
            yield
            _describe_operation(operation, self.execution_context)


class TraceResolvers(SchemaExtension):
    """A child span per awaited resolver. A `resolve` hook wraps every field of every
    operation, so a schema has it only when built while tracing is on."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kw: Any,
    ) -> Any:
        result = _next(root, info, *args, **kw)
        if _tracing.tracer is None or not isawaitable(result) or is_introspection_field(info):
            return result
        return _traced_resolver(result, info)


async def _traced_resolver(result: Awaitable[Any], info: GraphQLResolveInfo[Any]) -> Any:
    field = f"{info.parent_type.name}.{info.field_name}"
    with span(f"resolve {field}", **{"graphql.field.path": _path(info)}):
        return await result


def _path(info: GraphQLResolveInfo[Any]) -> str:
    return ".".join(str(key) for key in info.path.as_list())


def _describe_operation(operation: Span, execution_context: Any) -> None:
    kind = execution_context.operation_type
    kind_name = kind.value if kind is not None else "operation"
    name = execution_context.operation_name
    operation.update_name(f"{kind_name} {name}" if name else kind_name)
    operation.set_attribute("graphql.operation.type", kind_name)
    if name:
        operation.set_attribute("graphql.operation.name", name)


def _server() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.SERVER


def _incoming_context(context: Any) -> Any:
    """Continue the caller's trace when the request carries a W3C `traceparent`."""
    request = getattr(context, "request", None)
    return continue_from(dict(request.headers)) if request is not None else None


# --- across a queue --------------------------------------------------------------------


def inject() -> dict[str, str]:
    """The current trace context as a small dict to put in a message (empty when off)."""
    if _tracing.tracer is None:
        return {}
    from opentelemetry.propagate import inject as inject_into

    carrier: dict[str, str] = {}
    inject_into(carrier)
    return carrier


def continue_from(carrier: Mapping[str, str]) -> Any:
    """An OpenTelemetry context continuing the trace in `carrier`, for a span's parent."""
    from opentelemetry.propagate import extract

    return extract(carrier)


def start_job_span(name: str, carrier: Mapping[str, str], **attributes: Any) -> Span | None:
    """A span for a job, joining the trace of the request that queued it (None when off).

    Started and ended by worker hooks around the job rather than made current: the job
    itself may run on another thread (Dramatiq's event loop for async actors).
    """
    tracer = _tracing.tracer
    if tracer is None:
        return None
    return tracer.start_span(name, context=continue_from(carrier), attributes=attributes)


def end_job_span(job: Span | None, outcome: str, error: BaseException | None) -> None:
    if job is None:
        return
    job.set_attribute("job.outcome", outcome)
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        job.set_status(Status(StatusCode.ERROR, type(error).__name__))
    job.end()


# --- SQL -------------------------------------------------------------------------------


def trace_statements(engine: AsyncEngine) -> None:
    """A span per SQL statement: its text with placeholders, never its parameters. While
    these listen, reads keep to SQLAlchemy's execution path (`direct_reads.py`)."""
    listen_once(engine, _statement_listeners())


def untrace_statements(engine: AsyncEngine) -> None:
    """Undo `trace_statements` (an engine that outlives its tracing, as in tests)."""
    for name, listener in _statement_listeners().items():
        if event.contains(engine.sync_engine, name, listener):
            event.remove(engine.sync_engine, name, listener)


def _statement_listeners() -> dict[str, Callable[..., Any]]:
    return {
        "before_cursor_execute": _statement_started,
        "after_cursor_execute": _statement_finished,
        "handle_error": _statement_failed,
    }


def _statement_started(conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
    tracer, execution = _tracing.tracer, args[-2]
    if tracer is None or execution is None:
        return
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    attributes = {"db.system.name": conn.dialect.name, "db.query.text": statement}
    setattr(execution, _SPAN_KEY, tracer.start_span(verb, attributes=attributes))


def _statement_finished(_conn: Any, _cursor: Any, _statement: str, *args: Any) -> None:
    current = getattr(args[-2], _SPAN_KEY, None)
    if current is not None:
        current.end()


def _statement_failed(exception_context: Any) -> None:
    execution = exception_context.execution_context
    current = getattr(execution, _SPAN_KEY, None) if execution is not None else None
    if current is None:
        return
    from opentelemetry.trace import Status, StatusCode

    # The type only: database messages may quote the values that failed a constraint.
    error_type = type(exception_context.original_exception).__name__
    current.set_status(Status(StatusCode.ERROR, error_type))
    current.end()
