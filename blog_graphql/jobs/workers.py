"""Running Dramatiq workers: the runtime actors see, in-process workers, worker processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database

BACKGROUND_STOP_SECONDS = 5.0
DUE_POLL_SECONDS = 0.02
logger = logging.getLogger("blog_graphql.workers")

# A loop that runs beside the actors for a worker's whole life (the outbox relay).
Background = Callable[[Database, Settings], Coroutine[Any, Any, None]]

_runtime: WorkerRuntime | None = None
_in_process: InProcessWorker | None = None


def in_process_running() -> bool:
    return _in_process is not None


def current_runtime() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("no Dramatiq worker runs in this process")
    return _runtime


class DaemonAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO middleware, its event loop thread made a daemon.

    A worker process told to die at once (a second SIGTERM, as when systemd signals every
    process of a service and the parent passes its own on) leaves through `sys.exit`; a
    non-daemon loop thread would keep that process alive, its consumers still taking
    messages. Messages it had in hand go back to the queue (Redis requeues them, and the
    outbox relay hands over whatever stays unconfirmed).
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        thread = EventLoopThread(self.logger)
        thread.daemon = True
        thread.start(timeout=1.0)
        set_event_loop_thread(thread)


class WorkerRuntime(Middleware):
    """Gives actors settings and a database on the worker's event loop; runs the loops."""

    def __init__(self, settings: Settings, background: Sequence[Background]) -> None:
        self.settings = settings
        self.background = background  # filled as actor modules load, after this is built
        self._db: Database | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the worker has not booted")
        return self._db

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Before, not after: worker threads take messages as soon as they start, which is
        # before the "after boot" hooks run. AsyncIO's loop (earlier in the list) is up.
        global _runtime
        self._db = Database.from_settings(self.settings)
        _runtime = self
        _run_on_worker_loop(self._start_background())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        _run_on_worker_loop(self._stop_background())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Runs before AsyncIO's own hook (hooks run in reverse), so the loop is still up.
        global _runtime
        _run_on_worker_loop(self.db.dispose())
        self._db = None
        _runtime = None

    async def _start_background(self) -> None:
        self._tasks = [
            asyncio.create_task(loop(self.db, self.settings)) for loop in self.background
        ]

    async def _stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # a loop stuck in I/O must not hold the shutdown up
            await asyncio.wait(self._tasks, timeout=BACKGROUND_STOP_SECONDS)
        self._tasks = []


def _run_on_worker_loop(coroutine: Awaitable[None]) -> None:
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        raise RuntimeError("the AsyncIO middleware must come before WorkerRuntime")
    loop_thread.run_coroutine(coroutine)


class InProcessWorker:
    """The actors running inside this process on an in-memory broker (`serve` without Redis)."""

    def __init__(self, broker: StubBroker, *, threads: int = 2, poll_ms: int = 1000) -> None:
        self.broker = broker
        self._worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=poll_ms)

    def start(self) -> None:
        global _in_process
        # Dramatiq's event loop thread is one per process: so is a worker.
        if _in_process is not None:
            raise RuntimeError("a worker already runs in this process")
        _in_process = self
        self._worker.start()

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Finish the jobs in hand (up to the timeout), then stop."""
        global _in_process
        self._worker.stop(timeout=int(timeout_seconds * 1000))
        _in_process = None

    def finish(self, timeout_seconds: float) -> None:
        """At shutdown: run the jobs that are due (for up to the timeout), then stop.

        The in-memory queue dies with the process. Its emails would still go out (the
        outbox relay of the next start re-sends unconfirmed rows), but only after the
        confirm timeout; sending them now keeps a restart from delaying them. A job waiting
        out a delay (a digest's window, a retry's backoff) is not waited for: it is a row
        the relays of the next start hand over when it is due, and waiting would hold every
        shutdown for the whole timeout.
        """
        if not self._run_due_jobs(timeout_seconds):
            logger.warning(
                "jobs still queued after %.0f s; the outbox relay resends them", timeout_seconds
            )
        self.stop()

    def _run_due_jobs(self, timeout_seconds: float) -> bool:
        """Wait until no job is queued or running but those on a delay; False on timeout."""
        deadline = time.monotonic() + timeout_seconds
        while self._due_jobs():
            if time.monotonic() >= deadline:
                return False
            time.sleep(DUE_POLL_SECONDS)
        return True

    def _due_jobs(self) -> int:
        """Jobs queued or in hand, not counting those waiting on a delay queue (a delayed
        job comes here when its time comes, before it leaves its delay queue)."""
        delay_queues = self.broker.delay_queues
        queues = list(self.broker.queues.items())  # a queue declared meanwhile is not an error
        return sum(queue.unfinished_tasks for name, queue in queues if name not in delay_queues)

    def drain(self, timeout_seconds: float = 30.0) -> None:
        """Block until every queued and delayed job has run (tests; shutdown scripts)."""
        # Joining a queue joins its delay queue too (retries wait there). A job may queue
        # another on a queue joined before (a digest queues an email): join until all
        # are empty.
        names = sorted(self.broker.get_declared_queues() - self.broker.delay_queues)
        while True:
            for queue in names:
                self.broker.join(queue, timeout=int(timeout_seconds * 1000), fail_fast=False)
            if not any(queue.unfinished_tasks for queue in self.broker.queues.values()):
                return


def run_worker_processes(
    broker_setup: str,
    modules: Sequence[str],
    *,
    processes: int,
    threads: int,
    shutdown_timeout_seconds: float,
) -> int:
    """Run Dramatiq's worker processes until SIGTERM; return the exit code.

    `broker_setup` is "module:function" choosing the broker in each process. SIGTERM
    drains: each process stops taking messages, lets the ones in hand finish (up to the
    timeout) and puts the ones it had prefetched back on the queue.
    """
    from dramatiq import cli as dramatiq_cli

    args = dramatiq_cli.make_argument_parser().parse_args(  # type: ignore[no-untyped-call]
        [
            broker_setup,
            *modules,
            f"--processes={processes}",
            f"--threads={threads}",
            f"--worker-shutdown-timeout={int(shutdown_timeout_seconds * 1000)}",
            "--skip-logging",  # each process logs through our pipeline (logs.py) instead
        ]
    )
    code: int = dramatiq_cli.main(args)  # type: ignore[no-untyped-call]
    return code
