"""Background jobs: this process's one Dramatiq broker, the worker runtime, in-process jobs."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from blog_graphql.config import Settings, get_settings
from blog_graphql.db import Database

logger = logging.getLogger("blog_graphql.jobs")

# Modules that declare actors and background loops; every worker imports them all.
ACTOR_MODULES = ("blog_graphql.emails.actors",)

# Short network timeouts: a hand-over that cannot reach Redis should fail fast (the outbox
# relay tries again later) instead of holding up the request that committed the action.
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_RETRIES = 2

BACKGROUND_STOP_SECONDS = 5.0

Background = Callable[[Database, Settings], Coroutine[Any, Any, None]]


@dataclass
class _Process:
    """What this process has chosen: its broker, and the worker running here, if any."""

    broker: dramatiq.Broker | None = None
    redis_url: str | None = None
    runtime: WorkerRuntime | None = None
    in_process: InProcessWorker | None = None
    background: list[Background] = field(default_factory=list)


_process = _Process()


def configure(settings: Settings, *, fresh: bool = False) -> dramatiq.Broker:
    """Choose this process's broker from `settings` and declare every actor on it.

    Redis when REDIS_URL is set, else an in-memory broker for an in-process worker. With
    the same REDIS_URL as before the broker is kept, unless `fresh` asks for a new one.
    """
    current = _process.broker
    if current is not None and not fresh and _process.redis_url == settings.redis_url:
        return current
    broker = _build_broker(settings)
    dramatiq.set_broker(broker)
    _process.broker, _process.redis_url = broker, settings.redis_url
    if current is not None:
        _move_actors(current, broker)
        _close(current)
    for module in ACTOR_MODULES:
        importlib.import_module(module)
    return broker


def configure_from_environment() -> None:
    """The broker for `dramatiq` worker processes (see `run_workers`)."""
    configure(get_settings())


def broker() -> dramatiq.Broker:
    """This process's broker; chosen from the environment if nothing chose it yet."""
    return _process.broker or configure(get_settings())


async def enqueue(message: dramatiq.Message[Any]) -> None:
    """Hand `message` to the broker without blocking the event loop (Redis is network I/O)."""
    await asyncio.to_thread(broker().enqueue, message)


def _build_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(client=redis_client(settings.redis_url))  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
    broker.add_middleware(DaemonAsyncIO())
    broker.add_middleware(WorkerRuntime(settings))
    return broker


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS * 2,
        retry=Retry(ExponentialBackoff(cap=0.5), REDIS_RETRIES),
    )


def _move_actors(source: dramatiq.Broker, target: dramatiq.Broker) -> None:
    # Actors are declared once, at import; a process that changes brokers (tests, or an
    # in-process worker restarted with a clean queue) re-declares them on the new one.
    for actor in source.actors.values():
        actor.broker = target
        target.declare_actor(actor)


def _close(broker: dramatiq.Broker) -> None:
    broker.close()
    if isinstance(broker, RedisBroker):
        broker.client.close()


def run_in_workers(loop: Background) -> Background:
    """Register `loop(db, settings)` to run beside the actors in every worker (a relay)."""
    _process.background.append(loop)
    return loop


# --- what actors see while a worker runs ------------------------------------------------


def db() -> Database:
    """The worker's database handle, bound to the worker's event loop."""
    return _runtime().db


def settings() -> Settings:
    return _runtime().settings


def _runtime() -> WorkerRuntime:
    if _process.runtime is None:
        raise RuntimeError("no Dramatiq worker runs in this process")
    return _process.runtime


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

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
        self._db = Database.from_url(self.settings.database_url)
        _process.runtime = self
        self._run_on_worker_loop(self._start_background())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._run_on_worker_loop(self._stop_background())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Runs before AsyncIO's own hook (hooks run in reverse), so the loop is still up.
        self._run_on_worker_loop(self.db.dispose())
        self._db = None
        _process.runtime = None

    async def _start_background(self) -> None:
        self._tasks = [
            asyncio.create_task(loop(self.db, self.settings)) for loop in _process.background
        ]

    async def _stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # a loop stuck in I/O must not hold the shutdown up
            await asyncio.wait(self._tasks, timeout=BACKGROUND_STOP_SECONDS)
        self._tasks = []

    @staticmethod
    def _run_on_worker_loop(coroutine: Awaitable[None]) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            raise RuntimeError("the AsyncIO middleware must come before WorkerRuntime")
        loop_thread.run_coroutine(coroutine)


# --- in-process jobs (no REDIS_URL) -----------------------------------------------------


class InProcessWorker:
    """The actors running inside this process on an in-memory broker (`serve` without Redis).

    Each start takes a fresh broker: an in-memory queue from before belongs to nobody, and
    the outbox relay re-sends whatever it held that was never confirmed.
    """

    def __init__(self, settings: Settings, *, threads: int = 2, poll_ms: int = 1000) -> None:
        self.settings = settings
        self.threads = threads
        self.poll_ms = poll_ms
        self._worker: dramatiq.Worker | None = None

    def start(self) -> None:
        if _process.in_process is not None:
            raise RuntimeError("a worker already runs in this process")
        broker = configure(self.settings, fresh=True)
        self._worker = dramatiq.Worker(
            broker, worker_threads=self.threads, worker_timeout=self.poll_ms
        )
        _process.in_process = self
        self._worker.start()

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Finish the jobs in hand (up to the timeout), then stop."""
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout_seconds * 1000))
            self._worker = None
        _process.in_process = None

    def drain(self, timeout_seconds: float = 30.0) -> None:
        """Block until every queued and delayed job has run (tests; shutdown scripts)."""
        broker = self._worker.broker if self._worker else None
        if not isinstance(broker, StubBroker):
            raise RuntimeError("the in-process worker is not running")
        # Joining a queue joins its delay queue too (retries wait there).
        for queue in sorted(broker.get_declared_queues() - broker.delay_queues):
            broker.join(queue, timeout=int(timeout_seconds * 1000), fail_fast=False)


@asynccontextmanager
async def in_process_jobs(settings: Settings) -> AsyncIterator[InProcessWorker | None]:
    """For an app's lifetime: with REDIS_URL unset, run the actors in this process."""
    if settings.redis_url:
        yield None
        return
    worker = InProcessWorker(settings)
    await asyncio.to_thread(worker.start)
    try:
        yield worker
    finally:
        await asyncio.to_thread(worker.stop)


# --- `blog-graphql worker` ----------------------------------------------------------------


def run_workers(*, processes: int, threads: int, shutdown_timeout_seconds: float) -> int:
    """Run Dramatiq worker processes against REDIS_URL until SIGTERM; return the exit code.

    SIGTERM drains: each process stops taking messages, lets the ones in hand finish (up to
    the timeout) and puts the ones it had prefetched back on the queue.
    """
    from dramatiq import cli as dramatiq_cli

    args = dramatiq_cli.make_argument_parser().parse_args(  # type: ignore[no-untyped-call]
        [
            f"{__name__}:configure_from_environment",
            *ACTOR_MODULES,
            f"--processes={processes}",
            f"--threads={threads}",
            f"--worker-shutdown-timeout={int(shutdown_timeout_seconds * 1000)}",
        ]
    )
    code: int = dramatiq_cli.main(args)  # type: ignore[no-untyped-call]
    return code


def ping_redis(url: str) -> None:
    """Raise redis.RedisError when Redis does not answer at `url`."""
    client = redis_client(url)
    try:
        client.ping()
    finally:
        client.close()
