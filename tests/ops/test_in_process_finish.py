"""At shutdown, `serve`'s in-process worker runs what is queued before it stops."""

import logging
import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker

from blog_graphql.jobs.workers import InProcessWorker

QUEUE = "finish_ops"


def test_finish_runs_the_queued_jobs_that_stop_alone_would_drop():
    broker = StubBroker()
    broker.emit_after("process_boot")
    gate, done = threading.Event(), []

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="slow_ops")
    def slow(n: int) -> None:
        gate.wait(10)
        done.append(n)

    worker = InProcessWorker(broker, threads=1, poll_ms=50)
    worker.start()
    for n in range(5):
        slow.send(n)
    finishing = threading.Thread(target=worker.finish, args=(30.0,))
    finishing.start()
    gate.set()  # the first job was in hand; four more wait in the in-memory queue
    finishing.join(60)

    assert not finishing.is_alive()
    assert sorted(done) == [0, 1, 2, 3, 4]
    broker.close()


def test_finish_gives_up_waiting_after_its_timeout(caplog):
    broker = StubBroker()
    broker.emit_after("process_boot")
    gate = threading.Event()

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="stuck_ops")
    def stuck() -> None:
        gate.wait(2)

    worker = InProcessWorker(broker, threads=1, poll_ms=50)
    worker.start()
    stuck.send()
    stuck.send()
    with caplog.at_level(logging.WARNING, logger="blog_graphql.workers"):
        worker.finish(0.2)

    assert "jobs still queued after" in caplog.text
    gate.set()
    broker.close()


def test_finish_does_not_wait_for_a_job_on_a_delay_but_runs_what_is_due(caplog):
    """A digest waits out its window on a delay queue (the relay of the next start sends
    it when due): shutdown must not hang on it, and still runs the jobs that are due."""
    broker = StubBroker()
    broker.emit_after("process_boot")
    done = []

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="later_ops")
    def later(n: int) -> None:
        done.append(n)

    worker = InProcessWorker(broker, threads=1, poll_ms=50)
    worker.start()
    later.send_with_options(args=(1,), delay=60_000)
    later.send(2)
    with caplog.at_level(logging.WARNING, logger="blog_graphql.workers"):
        worker.finish(10.0)

    assert "jobs still queued after" not in caplog.text  # it did not wait out the timeout
    assert done == [2]
    broker.close()
