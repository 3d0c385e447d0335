"""The relay: a delivery no message was given for (no worker, a crash) is sent later."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import standardwebhooks

from blog_graphql.db.database import utcnow
from blog_graphql.jobs import broker as jobs
from blog_graphql.webhooks.models import DELIVERED, PENDING
from blog_graphql.webhooks.outbox import HANDOVER_GRACE
from blog_graphql.webhooks.relay import relay_due_deliveries
from tests.factories import auth_headers, create_post, create_user
from tests.webhooks.helpers import create_webhook, deliveries


async def test_a_delivery_left_behind_is_sent_by_the_relay(client, db, settings, receiver):
    jobs.configure(settings, fresh=True)  # a command's process: no Redis, no worker here
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    _, secret = await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])

    await create_post(db, author=admin_user)

    [row] = await deliveries(db)
    assert (row.status, row.attempts) == (PENDING, 0)
    worker = await asyncio.to_thread(jobs.start_in_process, settings, poll_ms=50)
    try:
        # Not yet overdue: the message after commit may still be on its way.
        assert await relay_due_deliveries(db) == 0
        later = utcnow() + HANDOVER_GRACE + timedelta(seconds=1)
        assert await relay_due_deliveries(db, now=later) == 1
        assert await relay_due_deliveries(db, now=later) == 0  # handed over once
        await asyncio.to_thread(worker.drain)
    finally:
        await asyncio.to_thread(worker.stop)

    [request] = receiver.wait_for(1)
    standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    [row] = await deliveries(db)
    assert (row.status, row.attempts) == (DELIVERED, 1)
