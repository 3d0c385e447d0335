"""The engine's own Prometheus series: whether it runs, and how often it hands a query back.

They live with the engine, so that it imports nothing above it; `/metrics` exposes them
with every other series of the process.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ENGINE_FAST_PATH = Gauge(
    "blog_graphql_engine_fast_path",
    "1 while operations run on the fast engine; 0 when an installed library lacks one of "
    "its seams (engine/_compat.py) and Strawberry's stock executor serves instead.",
    multiprocess_mode="max",
)
PLANNED_QUERIES = Counter(
    "blog_graphql_planned_queries",
    "Queries answered by the planned executor, level by level (tests prove the bench queries "
    "land here, so a fast path that silently stops being taken fails CI).",
)
PLANNED_FALLBACKS = Counter(
    "blog_graphql_planned_execution_fallbacks",
    "Queries the planned executor handed back to graphql-core's to report an error; a rise "
    "without errors is a missed fast path.",
)
LIVE_EXECUTIONS = Counter(
    "blog_graphql_live_executions",
    "Subscription events executed: one per event and audience when subscribers share "
    "(engine/shared_events.py), one per subscriber when they cannot.",
)
LIVE_SHARED_DELIVERIES = Counter(
    "blog_graphql_live_shared_deliveries",
    "Subscription events answered with another subscriber's execution of the same event.",
)
