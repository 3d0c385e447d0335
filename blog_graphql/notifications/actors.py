"""Notification actors: thin wrappers over `fanout` and `digest`, and their relay."""

from __future__ import annotations

import dramatiq

from blog_graphql.jobs import broker as jobs
from blog_graphql.notifications import digest, fanout, relay


@dramatiq.actor(broker=jobs.broker(), queue_name="notifications", max_retries=20)
async def fan_out_new_post(fanout_id: int) -> None:
    await fanout.run_fanout(jobs.db(), jobs.settings(), fanout_id)


@dramatiq.actor(broker=jobs.broker(), queue_name="notifications", max_retries=20)
async def send_notification_digest(recipient_id: int) -> None:
    wait = await digest.seconds_to_wait(jobs.db(), jobs.settings(), recipient_id)
    if wait > 0:  # the window is still open: come back when it closes
        message = send_notification_digest.message(recipient_id)
        await jobs.enqueue(message, delay_ms=int(wait * 1000) + 1)
        return
    await digest.send_digest(jobs.db(), jobs.settings(), recipient_id)


jobs.run_in_workers(relay.relay_forever)
