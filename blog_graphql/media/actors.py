"""Media actors: image processing in a worker, and the relay for uploads never handed over."""

from __future__ import annotations

import dramatiq

from blog_graphql import models  # noqa: F401 (every table: images' foreign keys name users and posts)
from blog_graphql.jobs import broker as jobs
from blog_graphql.media import outbox, processing, sweep
from blog_graphql.media.storage import storage_for


@dramatiq.actor(broker=jobs.broker(), queue_name="media", max_retries=5, min_backoff=5_000)
async def process_image(image_id: int) -> None:
    settings = jobs.settings()
    await processing.process_image(jobs.db(), storage_for(settings), settings, image_id)


jobs.run_in_workers(outbox.relay_forever)
jobs.run_in_workers(sweep.sweep_forever)
