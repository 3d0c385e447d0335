"""Fixtures for operations tests: log capture through the real logging pipeline."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from blog_graphql.config.settings import Settings
from blog_graphql.observability import tracing
from blog_graphql.observability.logs import configure_logging, remove_handler
from tests.emails.test_redis_worker import redis_url, use_redis, worker_env  # noqa: F401 (fixtures)


class CapturedLogs:
    """Everything the app logged, exactly as it would be written."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines (every line must be one JSON object)."""
        return [orjson.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


@pytest.fixture
def capture_logs(settings: Settings) -> Iterator[Callable[..., CapturedLogs]]:
    """Route all logging to a buffer with the app's own pipeline (JSON unless asked)."""
    root = logging.getLogger()
    level, handlers = root.level, []

    def start(**overrides: Any) -> CapturedLogs:
        stream = io.StringIO()
        configured = settings.model_copy(update={"log_format": "json", **overrides})
        handlers.append(configure_logging(configured, stream))
        # The test's own HTTP client logs every URL it calls (query strings included):
        # that is the test harness, not the app.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        return CapturedLogs(stream)

    yield start
    for handler in handlers:
        remove_handler(handler)
    root.setLevel(level)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for one test."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    yield exporter
    tracing.use_provider(None)
