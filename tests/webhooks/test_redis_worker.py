"""The Redis path: a real `blog-graphql worker` process sends and retries a webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
import standardwebhooks

from blog_graphql.jobs import broker as jobs
from blog_graphql.webhooks import service
from blog_graphql.webhooks.events import WebhookEvent
from blog_graphql.webhooks.models import DELIVERED
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.factories import create_post, create_user
from tests.live_server import clean_environment
from tests.live_worker import live_worker
from tests.waiting import eventually
from tests.webhooks.helpers import attempts, deliveries

pytestmark = requires_redis


@pytest.fixture
def redis_broker(settings) -> Iterator[None]:
    """This process hands its jobs to Redis, as `serve` with REDIS_URL does."""
    assert TEST_REDIS_URL
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    jobs.configure(settings.model_copy(update={"redis_url": TEST_REDIS_URL}))
    yield
    jobs.configure(settings)
    client.flushdb()
    client.close()


async def test_a_worker_on_redis_retries_a_500_after_its_delay_and_delivers(
    db, settings, database_url, redis_broker, receiver, tmp_path
):
    admin = await create_user(db, is_admin=True)
    webhook = await service.create_webhook(
        db, settings, url=receiver.url(), events=[WebhookEvent.POST_PUBLISHED]
    )
    receiver.answer(500)
    env = clean_environment(
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL or "",
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_SCHEDULE="1",
        WEBHOOK_TIMEOUT_SECONDS="5",
    )
    with live_worker(env, tmp_path, "--threads", "2"):
        await create_post(db, author=admin)
        first, second = await asyncio.to_thread(receiver.wait_for, 2)

        async def delivered() -> bool:
            return [row.status for row in await deliveries(db)] == [DELIVERED]

        await eventually(delivered, within=30, what="the delivery")

    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    standardwebhooks.Webhook(webhook.secret).verify(second.body, second.headers)
    logged = await attempts(db)
    assert [row.status_code for row in logged] == [500, 200]
    assert (logged[1].attempted_at - logged[0].attempted_at).total_seconds() >= 1
