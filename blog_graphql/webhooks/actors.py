"""Webhook actors: a thin wrapper that runs `sending` in a worker, and the relay beside it."""

from __future__ import annotations

import dramatiq

from blog_graphql.jobs import broker as jobs
from blog_graphql.webhooks import relay, sending

# Unexpected errors (a database outage, a bug) get Dramatiq's own retries, this many;
# the relay hands the delivery over again after that.
UNEXPECTED_ERROR_RETRIES = 20


def should_retry(retries: int, error: BaseException) -> bool:
    # A Retry carries the delivery's own schedule, bounded by WEBHOOK_RETRY_SCHEDULE.
    return isinstance(error, dramatiq.Retry) or retries < UNEXPECTED_ERROR_RETRIES


@dramatiq.actor(
    broker=jobs.broker(),
    queue_name="webhooks",
    retry_when=should_retry,
    min_backoff=15_000,
    max_backoff=3_600_000,
)
async def send_webhook(delivery_id: int) -> None:
    outcome = await sending.deliver(jobs.db(), jobs.settings(), delivery_id)
    if outcome.retry_in is not None:
        raise dramatiq.Retry(
            "the receiver failed", delay=int(outcome.retry_in.total_seconds() * 1000)
        )


jobs.run_in_workers(relay.relay_forever)
