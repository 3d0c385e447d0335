"""Background jobs: this process's one Dramatiq broker, chosen from settings, and its workers."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from blog_graphql.config.settings import Settings, get_settings
from blog_graphql.db.database import Database
from blog_graphql.jobs import workers
from blog_graphql.jobs.workers import Background, DaemonAsyncIO, InProcessWorker, WorkerRuntime

# Modules that declare actors and background loops; every worker imports them all.
ACTOR_MODULES = (
    "blog_graphql.emails.actors",
    "blog_graphql.notifications.actors",
    "blog_graphql.webhooks.actors",
    "blog_graphql.server.scheduler",
    "blog_graphql.media.actors",
)

# Short network timeouts: a hand-over that cannot reach Redis should fail fast (the outbox
# relay tries again later) instead of holding up the request that committed the action.
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_RETRIES = 2
# At shutdown, how long `serve`'s in-process worker may go on with what is queued.
IN_PROCESS_FINISH_SECONDS = 10.0


@dataclass
class _Process:
    """What this process has chosen: its broker, and the loops its workers run."""

    broker: dramatiq.Broker | None = None
    redis_url: str | None = None
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
    """The broker for `dramatiq` worker processes (see `run_workers`), and their logging."""
    from blog_graphql.observability.logs import configure_logging
    from blog_graphql.observability.tracing import configure_tracing

    settings = get_settings()
    configure_logging(settings)  # to the pipe Dramatiq gave this process for its output
    configure_tracing(settings)
    configure(settings)


def broker() -> dramatiq.Broker:
    """This process's broker; chosen from the environment if nothing chose it yet."""
    return _process.broker or configure(get_settings())


class NoWorker(Exception):
    """No Redis, and no worker in this process: a message given now would never be read."""


async def enqueue(message: dramatiq.Message[Any], *, delay_ms: int | None = None) -> None:
    """Hand `message` to the broker without blocking the event loop (Redis is network I/O).

    Raises NoWorker in a process with an in-memory broker but no worker (a command run
    without REDIS_URL): the caller leaves the job to `serve`'s relay instead.
    """
    current = broker()
    if isinstance(current, StubBroker) and not workers.in_process_running():
        raise NoWorker("REDIS_URL is unset and no worker runs in this process")
    await asyncio.to_thread(current.enqueue, message, delay=delay_ms or None)


def _build_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(client=redis_client(settings.redis_url))  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
    broker.add_middleware(DaemonAsyncIO())
    broker.add_middleware(WorkerRuntime(settings, _process.background))
    _observe(broker)
    return broker


def _observe(broker: dramatiq.Broker) -> None:
    # Imported here, not at the top: `blog-graphql worker` must choose its metrics
    # directory before prometheus-client is first imported (worker processes fork).
    from dramatiq.middleware import Retries

    from blog_graphql.observability.job_observer import JobObserver

    broker.add_middleware(JobObserver(), before=Retries)


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


def db() -> Database:
    """For actors: the worker's database handle, bound to the worker's event loop."""
    return workers.current_runtime().db


def settings() -> Settings:
    """For actors: the settings the worker runs with."""
    return workers.current_runtime().settings


def start_in_process(settings: Settings, **options: int) -> InProcessWorker:
    """Run the actors in this process, on a fresh in-memory broker (`serve` without Redis).

    Fresh: an in-memory queue from before belongs to nobody, and the outbox relay re-sends
    whatever it held that was never confirmed.
    """
    broker = configure(settings.model_copy(update={"redis_url": None}), fresh=True)
    assert isinstance(broker, StubBroker)
    worker = InProcessWorker(broker, **options)
    worker.start()
    return worker


@asynccontextmanager
async def in_process_jobs(settings: Settings) -> AsyncIterator[InProcessWorker | None]:
    """For an app's lifetime: with REDIS_URL unset, run the actors in this process."""
    if settings.redis_url:
        yield None
        return
    worker = await asyncio.to_thread(start_in_process, settings)
    try:
        yield worker
    finally:  # after uvicorn drained the requests that could still queue jobs
        await asyncio.to_thread(worker.finish, IN_PROCESS_FINISH_SECONDS)


def run_workers(*, processes: int, threads: int, shutdown_timeout_seconds: float) -> int:
    """`blog-graphql worker`: Dramatiq worker processes on REDIS_URL, until SIGTERM."""
    return workers.run_worker_processes(
        f"{__name__}:configure_from_environment",
        ACTOR_MODULES,
        processes=processes,
        threads=threads,
        shutdown_timeout_seconds=shutdown_timeout_seconds,
    )


def ping_redis(url: str) -> None:
    """Raise redis.RedisError when Redis does not answer at `url`."""
    client = redis_client(url)
    try:
        client.ping()
    finally:
        client.close()
