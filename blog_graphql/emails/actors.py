"""Email actors: thin wrappers that run `sending` in a worker, and the outbox relay beside them."""

from __future__ import annotations

import dramatiq

from blog_graphql.emails import relay, sending
from blog_graphql.jobs import broker as jobs

# Unexpected errors (a database outage, a bug) get Dramatiq's own retries, this many.
UNEXPECTED_ERROR_RETRIES = 20


class EmailFailed(Exception):
    """Raised to dead-letter a message whose email failed for good (its row says why)."""


def should_retry(retries: int, error: BaseException) -> bool:
    # A Retry carries our SMTP backoff; `sending` bounds those by EMAIL_MAX_RETRIES.
    return isinstance(error, dramatiq.Retry) or retries < UNEXPECTED_ERROR_RETRIES


@dramatiq.actor(
    broker=jobs.broker(),
    queue_name="emails",
    retry_when=should_retry,
    min_backoff=15_000,
    max_backoff=3_600_000,
    throws=(EmailFailed,),
)
async def send_email(email_id: int, idempotency_key: str) -> None:
    outcome = await sending.deliver(jobs.db(), jobs.settings(), email_id, idempotency_key)
    if outcome.kind == "retry" and outcome.retry_in is not None:
        delay_ms = int(outcome.retry_in.total_seconds() * 1000)
        raise dramatiq.Retry(outcome.reason or "", delay=delay_ms)
    if outcome.kind == "failed":
        raise EmailFailed(outcome.reason)


jobs.run_in_workers(relay.relay_forever)
