"""Jobs are observable: a log line, metrics and a span each, tied to the request that queued them.

A real Dramatiq worker processes the messages, on Dramatiq's in-memory broker.
"""

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries
from prometheus_client import REGISTRY

from blog_graphql.observability import tracing
from blog_graphql.observability.job_observer import JobObserver
from blog_graphql.observability.request_info import bound_request_id

QUEUE = "observed"


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    broker = StubBroker()
    broker.add_middleware(JobObserver(), before=Retries)
    broker.emit_after("process_boot")
    yield broker
    broker.close()


def run_all(broker: StubBroker) -> None:
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join(QUEUE, fail_fast=False)  # its delay queue (retries) too
        worker.join()
    finally:
        worker.stop()


def jobs_total(actor: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("blog_graphql_jobs_total", {"actor": actor, "outcome": outcome})
        or 0.0
    )


def test_a_job_logs_one_line_with_the_request_that_queued_it(broker, capture_logs):
    done = []

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="welcome_ops")
    def welcome(user_id: int) -> None:
        done.append(user_id)

    logs = capture_logs()
    before = jobs_total("welcome_ops", "succeeded")
    with bound_request_id("request-0123456789"):
        message = welcome.send(7)
    run_all(broker)

    assert done == [7]
    [line] = logs.events("job")
    assert line["actor"] == "welcome_ops"
    assert line["message_id"] == message.message_id
    assert line["queue"] == QUEUE
    assert line["outcome"] == "succeeded"
    assert line["retries"] == 0
    assert line["request_id"] == "request-0123456789"
    assert line["error"] is None
    assert line["duration_ms"] >= 0
    assert jobs_total("welcome_ops", "succeeded") == before + 1


def test_a_failing_job_is_logged_as_retried_then_failed(broker, capture_logs):
    @dramatiq.actor(
        broker=broker, queue_name=QUEUE, actor_name="flaky_ops", max_retries=1, min_backoff=1,
        max_backoff=1,
    )  # fmt: skip
    def flaky() -> None:
        raise ConnectionError("smtp://user:hunter2@mail is down")

    logs = capture_logs()
    flaky.send()
    run_all(broker)

    lines = logs.events("job")
    assert [(line["outcome"], line["retries"]) for line in lines] == [("retried", 1), ("failed", 2)]
    assert {line["error"] for line in lines} == {"ConnectionError"}
    assert "hunter2" not in logs.text
    assert lines[1]["level"] == "warning"


def test_a_jobs_span_joins_the_trace_of_the_request_that_queued_it(broker, exporter):
    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="traced_ops")
    def traced() -> None:
        pass

    with tracing.span("query Feed"):
        message = traced.send()
    run_all(broker)

    spans = {span.name: span for span in exporter.get_finished_spans()}
    request, job = spans["query Feed"], spans["job traced_ops"]
    assert job.context.trace_id == request.context.trace_id
    assert job.parent is not None and job.parent.span_id == request.context.span_id
    assert job.attributes["messaging.message.id"] == message.message_id
    assert job.attributes["job.outcome"] == "succeeded"


def test_without_a_request_or_a_trace_messages_carry_nothing_extra(broker):
    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="plain_ops")
    def plain() -> None:
        pass

    message = plain.send()

    assert "request_id" not in message.options
    assert "trace_context" not in message.options
