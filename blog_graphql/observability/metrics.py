"""Prometheus metrics: every series the app exports, and the hooks the rest of the app calls.

Counters and histograms add up across `serve --workers N` through prometheus-client's
multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, which `serve` sets up); gauges of things a
process holds open (connections, subscriptions) are summed over live processes only.
Who records what: the access-log middleware (requests, latency, open WebSockets),
`http.streaming` (open HTTP streams),
`operation_observer` (errors, running subscriptions), `execution` (planned fallbacks),
`observability` (dataloader batches, the database pool), `job_observer` (jobs), `/metrics`
itself (outbox backlog).
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_graphql.observability.sql_events import listen_once

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "blog_graphql_http_requests",
    "HTTP requests by path, GraphQL operation name, method and status.",
    ["path", "operation", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "blog_graphql_http_request_duration_seconds",
    "Time from request to the end of the response, by path and GraphQL operation name.",
    ["path", "operation"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "blog_graphql_graphql_errors", "GraphQL errors sent to clients, by extensions.code.", ["code"]
)
DATALOADER_BATCH_SIZE = Histogram(
    "blog_graphql_dataloader_batch_size",
    "Keys loaded per dataloader batch.",
    ["loader"],
    buckets=BATCH_BUCKETS,
)
DB_CONNECTIONS_IN_USE = Gauge(
    "blog_graphql_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
DB_CONNECTIONS_OPEN = Gauge(
    "blog_graphql_db_pool_connections_open",
    "Database connections the pool holds open (in use or idle).",
    multiprocess_mode="livesum",
)
RESPONSE_CACHE = Counter(
    "blog_graphql_response_cache",
    "Response cache events: hit_local, hit_shared, miss, stored, not_modified (a 304), "
    "invalidation (a committed write that changed tables answers had read).",
    ["outcome"],
)
WEBSOCKETS_OPEN = Gauge(
    "blog_graphql_websocket_connections",
    "Open WebSocket connections.",
    multiprocess_mode="livesum",
)
HTTP_STREAMS_OPEN = Gauge(
    "blog_graphql_http_streams",
    "Open streamed HTTP operations (subscriptions over SSE or multipart), by protocol.",
    ["protocol"],
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "blog_graphql_subscriptions_active",
    "Running GraphQL subscriptions, by subscription field.",
    ["subscription"],
    multiprocess_mode="livesum",
)
RATE_LIMITS_DEGRADED = Gauge(
    "blog_graphql_rate_limits_degraded",
    "1 while rate limits count per instance in memory because Redis is unreachable.",
    multiprocess_mode="livemax",
)
JOBS = Counter(
    "blog_graphql_jobs", "Finished job attempts, by actor and outcome.", ["actor", "outcome"]
)
JOB_DURATION = Histogram(
    "blog_graphql_job_duration_seconds",
    "Time one job attempt took, by actor.",
    ["actor"],
    buckets=JOB_BUCKETS,
)

KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
MAX_OPERATION_LABELS = 300
_operation_labels: set[str] = set()


def operation_label(name: str | None) -> str:
    """A bounded label: clients choose operation names, so an attacker could invent many."""
    if not name:
        return "anonymous"
    if not GRAPHQL_NAME.fullmatch(name):
        return "invalid"
    if name in _operation_labels:
        return name
    if len(_operation_labels) >= MAX_OPERATION_LABELS:
        return "other"
    _operation_labels.add(name)
    return name


def path_label(path: str) -> str:
    return path if path in KNOWN_PATHS else "other"


# The labelled series of each request kind, looked up once: `labels()` takes a lock and
# builds its key on every call. Labels are bounded above; so is this cache.
_request_series: dict[tuple[str, str | None, str, int], tuple[Any, Any]] = {}
MAX_CACHED_SERIES = 4096


def _series_of(path: str, operation: str | None, method: str, status: int) -> tuple[Any, Any]:
    path = path_label(path)  # so that made-up paths share one entry
    key = (path, operation, method, status)
    series = _request_series.get(key)
    if series is None:
        operation_ = operation_label(operation)
        series = (
            HTTP_REQUESTS.labels(path, operation_, method, str(status)),
            HTTP_LATENCY.labels(path, operation_),
        )
        if len(_request_series) < MAX_CACHED_SERIES:
            _request_series[key] = series
    return series


def observe_request(
    *, path: str, operation: str | None, method: str, status: int, seconds: float
) -> None:
    requests, latency = _series_of(path, operation, method, status)
    requests.inc()
    latency.observe(seconds)


def count_errors(codes: list[str]) -> None:
    for code in codes:
        GRAPHQL_ERRORS.labels(code).inc()


def observe_batch(loader: str, size: int) -> None:
    DATALOADER_BATCH_SIZE.labels(loader).observe(size)


def job_finished(actor: str, outcome: str, seconds: float) -> None:
    """One job attempt ended; `outcome` is e.g. `succeeded`, `retried`, `failed`."""
    JOBS.labels(actor, outcome).inc()
    JOB_DURATION.labels(actor).observe(seconds)


def instrument_pool(engine: AsyncEngine) -> None:
    """Follow the engine's pool: connections open and checked out (once per engine).

    Each connection is marked when counted, so one opened before this call (or detached
    from the pool) never makes a gauge go below what is really there.
    """
    listen_once(
        engine,
        {
            "connect": _opened,
            "close": _closed,
            "detach": _closed,
            "checkout": _checked_out,
            "checkin": _checked_in,
        },
    )


_OPEN, _IN_USE = "blog_graphql_open", "blog_graphql_in_use"


def _mark(record: Any, mark: str, gauge: Gauge) -> None:
    if record is not None and not record.info.get(mark):
        record.info[mark] = True
        gauge.inc()


def _unmark(record: Any, mark: str, gauge: Gauge) -> None:
    if record is not None and record.info.pop(mark, False):
        gauge.dec()


def _opened(_connection: Any, record: Any) -> None:
    _mark(record, _OPEN, DB_CONNECTIONS_OPEN)


def _closed(_connection: Any, record: Any) -> None:
    _unmark(record, _IN_USE, DB_CONNECTIONS_IN_USE)
    _unmark(record, _OPEN, DB_CONNECTIONS_OPEN)


def _checked_out(_connection: Any, record: Any, _proxy: Any) -> None:
    _mark(record, _IN_USE, DB_CONNECTIONS_IN_USE)


def _checked_in(_connection: Any, record: Any) -> None:
    _unmark(record, _IN_USE, DB_CONNECTIONS_IN_USE)
