"""The Redis path: real `blog-graphql worker` processes on the real Redis send the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import dramatiq
import pytest
import redis

from blog_graphql.emails.models import ENQUEUED, FAILED, PENDING, SENT
from blog_graphql.emails.relay import relay_due_emails
from blog_graphql.jobs import broker as jobs
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.emails.stand_in import only_row, sign_up, statuses, wait_for_statuses
from tests.live_server import clean_environment
from tests.live_worker import live_worker
from tests.smtp import PERMANENT_REPLY
from tests.tcp_proxy import tcp_proxy
from tests.waiting import eventually

pytestmark = requires_redis
WAIT_SECONDS = 30.0


@pytest.fixture
def redis_url() -> Iterator[str]:
    assert TEST_REDIS_URL
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def use_redis(settings):
    """Hand this process's emails to Redis (at the URL given), as `serve` with REDIS_URL does."""

    def use(url: str) -> dramatiq.Broker:
        return jobs.configure(settings.model_copy(update={"redis_url": url}))

    yield use
    jobs.configure(settings)


@pytest.fixture
def worker_env(database_url, redis_url, smtp_server):
    def env(url: str = redis_url) -> dict[str, str]:
        return clean_environment(
            DATABASE_URL=database_url,
            REDIS_URL=url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp_server.port),
            EMAIL_RETRY_BACKOFF_SECONDS="0.05",
            OUTBOX_RELAY_INTERVAL_SECONDS="0.2",
        )

    return env


async def drained(broker) -> None:
    """Wait until Redis holds no message for the emails queue, in flight or delayed."""
    await asyncio.to_thread(broker.join, "emails", timeout=int(WAIT_SECONDS * 1000))


async def test_a_worker_on_redis_sends_the_actions_email_once(
    db, smtp_server, use_redis, redis_url, worker_env, tmp_path
):
    broker = use_redis(redis_url)
    with live_worker(worker_env(), tmp_path, "--threads", "2"):
        token = await sign_up(db, "ada")
        await wait_for_statuses(db, [SENT])
        await drained(broker)

    [mail] = smtp_server.received
    assert mail.recipients == ["ada@example.com"]
    assert mail.link("/verify-email") == f"http://127.0.0.1:8000/verify-email?token={token}"
    # Kept in development, for /dev/mailbox (production drops it: test_mailbox.py).
    assert (await only_row(db)).context == {"username": "ada", "token": token}


# While the proxy is down, redis-py's synchronous client (Dramatiq's broker, in this
# process) can drop a half-opened socket to the garbage collector without closing it; when
# the collector runs is chance, so the ResourceWarning sometimes lands in this test. The
# test's own assertions (the email sent once, nothing left to relay) are what it checks.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <(function _SelectorTransport.__del__|socket.socket)"
    ":pytest.PytestUnraisableExceptionWarning"
)
async def test_an_action_committed_while_redis_is_down_gets_its_email_once_it_is_back(
    db, smtp_server, use_redis, redis_url, worker_env, tmp_path
):
    host, port = urlsplit(redis_url).hostname, urlsplit(redis_url).port
    with tcp_proxy(host or "127.0.0.1", port or 6379) as proxy:
        broker = use_redis(proxy.url(redis_url))
        with live_worker(worker_env(proxy.url(redis_url)), tmp_path, "--threads", "2"):
            proxy.down()  # Redis is unreachable, for this process and for the worker

            await sign_up(db, "ada")  # commits; the hand-over fails, quietly

            assert await statuses(db) == [PENDING]
            assert smtp_server.received == []
            proxy.up()
            # The worker's relay hands the row over; its consumer reconnects and sends.
            await wait_for_statuses(db, [SENT])
            await drained(broker)

    assert len(smtp_server.received) == 1
    assert await relay_due_emails(db) == 0


async def test_sigterm_mid_send_finishes_the_email_in_hand_and_loses_none(
    db, smtp_server, use_redis, redis_url, worker_env, tmp_path
):
    broker = use_redis(redis_url)
    hold = smtp_server.hold()
    with live_worker(worker_env(), tmp_path, "--threads", "1") as worker:
        for name in ("ada", "bob", "cy", "dee"):
            await sign_up(db, name)
        await asyncio.to_thread(hold.wait_until_started)  # the worker is mid-send

        worker.terminate()
        await asyncio.to_thread(worker.wait_for_line, "Shutting down...")
        hold.release()

        assert await asyncio.to_thread(worker.wait) == 0
    sent_by_first = len(smtp_server.received)
    assert sent_by_first >= 1  # the email in hand was finished, not dropped
    assert (await statuses(db)).count(SENT) == sent_by_first
    assert set(await statuses(db)) <= {SENT, ENQUEUED}

    with live_worker(worker_env(), tmp_path, "--threads", "2") as second:
        await wait_for_statuses(db, [SENT] * 4)
        await drained(broker)
    # Messages waiting at boot are taken by threads that start before the boot finishes.
    assert not [line for line in second.lines if "Failed to process message" in line]

    recipients = sorted(mail.recipients[0] for mail in smtp_server.received)
    assert recipients == [f"{name}@example.com" for name in ("ada", "bob", "cy", "dee")]


async def test_a_second_sigterm_ends_every_worker_process(worker_env, tmp_path):
    with live_worker(worker_env(), tmp_path, "--processes", "2", "--threads", "1") as worker:
        worker.terminate_every_process()  # as systemd signals every process of a service
        await asyncio.to_thread(worker.wait_for_line, "Stopping worker process")
        worker.terminate_every_process()  # and again: now "stop at once"

        assert await asyncio.to_thread(worker.wait) in (0, 1)
        await eventually(
            worker.group_is_gone, within=WAIT_SECONDS, what="every worker process ending"
        )


async def test_a_permanent_failure_is_dead_lettered_listed_and_retried(
    db, database_url, smtp_server, use_redis, redis_url, worker_env, tmp_path, run_cli
):
    broker = use_redis(redis_url)
    smtp_server.refuse_permanently()
    cli_env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    with live_worker(worker_env(), tmp_path, "--threads", "2"):
        await sign_up(db, "ada")
        await wait_for_statuses(db, [FAILED])
        await drained(broker)
        assert redis.Redis.from_url(redis_url).zcard("dramatiq:emails.XQ") == 1

        listing = await run_cli("emails", "list", "--failed", env=cli_env)
        row = await only_row(db)
        assert listing.code == 0, listing.stderr
        assert f"{row.id}  failed" in listing.stdout and PERMANENT_REPLY in listing.stdout

        smtp_server.accept()
        retried = await run_cli("emails", "retry", str(row.id), env=cli_env)
        assert retried.code == 0, retried.stderr
        assert retried.stdout.strip() == "1 email(s) queued again, 1 handed to the workers"
        await wait_for_statuses(db, [SENT])
        await drained(broker)

    assert [mail.recipients for mail in smtp_server.received] == [["ada@example.com"]]
    listing = await run_cli("emails", "list", "--failed", env=cli_env)
    assert listing.stdout.strip() == "no failed emails"
