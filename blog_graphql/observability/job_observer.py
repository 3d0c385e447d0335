"""A Dramatiq middleware that makes jobs observable: one log line, metrics and a span per job.

When a message is enqueued it takes along the id of the request that queued it and the
current trace context (as message options); when a worker has processed it, one line is
logged (actor, message id, outcome, duration, retries, that request id), the job
metrics are counted, and a span joining the request's trace is recorded.

Add it before `Retries`, so that its after-hooks (run in reverse order) see what
`Retries` decided: `broker.add_middleware(JobObserver(), before=Retries)`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from blog_graphql.observability import metrics, tracing
from blog_graphql.observability.logs import get_logger
from blog_graphql.observability.request_info import current_request_id

logger = get_logger("blog_graphql.jobs.log")
REQUEST_ID = "request_id"
TRACE_CONTEXT = "trace_context"


@dataclass
class _Running:
    started: float
    span: Any


class JobObserver(Middleware):
    def __init__(self) -> None:
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int) -> None:
        # A retry is enqueued again from the worker: it keeps what the first send carried.
        if REQUEST_ID not in message.options and (request_id := current_request_id()):
            message.options[REQUEST_ID] = request_id
        if TRACE_CONTEXT not in message.options and (carrier := tracing.inject()):
            message.options[TRACE_CONTEXT] = carrier

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        span = tracing.start_job_span(
            f"job {message.actor_name}",
            message.options.get(TRACE_CONTEXT) or {},
            **{
                "messaging.message.id": message.message_id,
                "messaging.destination.name": message.queue_name,
            },
        )
        with self._lock:
            self._running[message.message_id] = _Running(time.perf_counter(), span)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            self._finish(message, "succeeded", None)
            return
        self._finish(message, "failed" if message.failed else "retried", exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finish(message, "skipped", None)

    def _finish(self, message: Any, outcome: str, exception: BaseException | None) -> None:
        with self._lock:
            running = self._running.pop(message.message_id, None)
        seconds = time.perf_counter() - running.started if running else 0.0
        tracing.end_job_span(running.span if running else None, outcome, exception)
        metrics.job_finished(message.actor_name, outcome, seconds)
        logger.log(
            logging.WARNING if outcome == "failed" else logging.INFO,
            "job",
            actor=message.actor_name,
            message_id=message.message_id,
            queue=message.queue_name,
            outcome=outcome,
            duration_ms=round(seconds * 1000, 2),
            # Dramatiq's Retries counts attempts that failed so far, this one included.
            retries=message.options.get("retries", 0),
            request_id=message.options.get(REQUEST_ID),
            error=type(exception).__name__ if exception else None,
        )
