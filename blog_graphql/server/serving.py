"""`blog-graphql serve`: the app factory every uvicorn worker calls, and what serve prepares."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.applications import Starlette

from blog_graphql.config.settings import Settings
from blog_graphql.http import shutdown
from blog_graphql.server.gc_tuning import tune_for_serving

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def app() -> Starlette:
    """Runs in each worker process: logging and tracing are per process."""
    from blog_graphql.app import create_app
    from blog_graphql.config.settings import get_settings
    from blog_graphql.observability.logs import configure_logging
    from blog_graphql.observability.tracing import configure_tracing

    settings = get_settings()
    configure_logging(settings)
    configure_tracing(settings)
    application = create_app(settings)
    shutdown.install(application, settings.shutdown_drain_seconds)
    tune_for_serving()  # last: what start-up built stays out of every collection
    return application


@contextmanager
def worker_observability(settings: Settings) -> Iterator[None]:
    """Around `blog-graphql worker`'s main process: logs, shared metrics, its HTTP side."""
    from blog_graphql.observability.logs import configure_logging
    from blog_graphql.observability.tracing import check_tracing

    check_tracing(settings)
    configure_logging(settings, sys.stderr)  # where Dramatiq writes its worker processes' lines
    # Jobs run in the worker processes; /metrics is served here: always share metrics.
    with metrics_directory(shared=True):
        if settings.worker_http_port is None:
            yield
            return
        from blog_graphql.http.worker_http import WorkerHTTP

        http = WorkerHTTP("0.0.0.0", settings.worker_http_port, settings.metrics_token).start()
        try:
            yield
        finally:
            http.stop()


@contextmanager
def metrics_directory(shared: bool) -> Iterator[Path | None]:
    """Where worker processes share their metrics, so `/metrics` adds them all up.

    Set before any worker imports prometheus-client, which reads it once. An operator's
    own `PROMETHEUS_MULTIPROC_DIR` is emptied of a previous run's files; otherwise, when
    several processes must be `shared`, a temporary directory serves, removed at the end.
    """
    given = os.environ.get(MULTIPROCESS_ENV)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield Path(given)
        return
    if not shared:
        yield None
        return
    directory = tempfile.mkdtemp(prefix="blog-graphql-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    try:
        yield Path(directory)
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
