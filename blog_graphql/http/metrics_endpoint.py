"""`GET /metrics`: the Prometheus exposition, only for callers holding `METRICS_TOKEN`."""

from __future__ import annotations

import asyncio
import glob
import hmac
import logging
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from blog_graphql.db.database import utcnow
from blog_graphql.emails.backlog import Backlog, outbox_backlog
from blog_graphql.state import AppState

logger = logging.getLogger("blog_graphql.metrics")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")
BACKLOG_TIMEOUT_SECONDS = 2.0


async def metrics_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.blog
    token = state.settings.metrics_token
    if token is None:  # not configured: the endpoint does not exist
        return PlainTextResponse("Not Found", status_code=404)
    if not bearer_matches(request.headers.get("authorization"), token):
        return PlainTextResponse(
            "Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )
    families = list(await database_families(state))
    return Response(exposition(families), media_type=CONTENT_TYPE_LATEST)


def bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # Constant-time, so the token cannot be guessed byte by byte from response times.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def database_families(state: AppState) -> Iterator[Metric]:
    """What only the database knows: the outbox backlog (the same from every instance)."""
    up = GaugeMetricFamily(
        "blog_graphql_outbox_backlog_up", "1 if the outbox backlog could be read."
    )
    try:
        rows = await asyncio.wait_for(outbox_backlog(state.db), BACKLOG_TIMEOUT_SECONDS)
    except Exception as error:  # the database may be down; /metrics must still answer
        logger.warning("metrics: outbox backlog unavailable: %s", type(error).__name__)
        up.add_metric([], 0)
        return iter([up])
    up.add_metric([], 1)
    return iter([up, *backlog_families(rows, utcnow())])


def backlog_families(rows: Iterable[Backlog], now: datetime) -> list[Metric]:
    count = GaugeMetricFamily(
        "blog_graphql_outbox_backlog",
        "Emails committed but not yet sent: pending (not yet queued) or enqueued.",
        labels=["status"],
    )
    age = GaugeMetricFamily(
        "blog_graphql_outbox_oldest_age_seconds",
        "Age of the oldest email waiting in each status (0 when none).",
        labels=["status"],
    )
    for row in rows:
        count.add_metric([row.status], row.count)
        age.add_metric([row.status], (now - row.oldest).total_seconds() if row.oldest else 0)
    return [count, age]


class _Fixed:
    """A collector over families computed before the scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def exposition(extra: list[Metric]) -> bytes:
    """This process's metrics, or all workers' in multiprocess mode, plus `extra`."""
    extra_registry = CollectorRegistry(auto_describe=True)
    extra_registry.register(_Fixed(extra))
    return generate_latest(process_registry()) + generate_latest(extra_registry)


def process_registry() -> CollectorRegistry:
    directory = os.environ.get(MULTIPROCESS_ENV)
    if not directory:
        return REGISTRY
    forget_dead_processes(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def forget_dead_processes(directory: str) -> None:
    """Drop live gauges of workers that died without saying so (a crash, a kill -9)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        match = LIVE_GAUGE_FILE.search(os.path.basename(path))
        if match and not _alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
