"""Processing through the real path: committed upload, outbox hand-over, Dramatiq actor."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from blog_graphql.db.database import utcnow
from blog_graphql.jobs import broker as jobs
from blog_graphql.media import outbox
from blog_graphql.media.models import Image
from tests.conftest import graphql
from tests.media.conftest import image_bytes, upload

STATUS = "query($id: ID!) { node(id: $id) { ... on Image { status url } } }"


async def wait_ready(client, headers, image_id: str, seconds: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        node = (await graphql(client, STATUS, {"id": image_id}, headers))["data"]["node"]
        if node["status"] != "PROCESSING" or asyncio.get_running_loop().time() > deadline:
            return node
        await asyncio.sleep(0.1)


async def test_an_upload_is_processed_by_the_worker_after_commit(client, settings, ada_headers):
    worker = await asyncio.to_thread(jobs.start_in_process, settings, poll_ms=50)
    try:
        response = await upload(client, image_bytes((1600, 1200)), headers=ada_headers)
        node = await wait_ready(client, ada_headers, response.json()["data"]["uploadImage"]["id"])
    finally:
        await asyncio.to_thread(worker.stop)
    assert node["status"] == "READY" and node["url"].endswith("/large.jpg")


async def test_an_upload_never_handed_over_is_taken_by_the_relay(client, db, settings, ada_headers):
    jobs.configure(settings, fresh=True)  # no worker in this process: the hand-over fails
    response = await upload(client, image_bytes(), headers=ada_headers)
    image_id = response.json()["data"]["uploadImage"]["id"]
    async with db.session() as session:
        assert (await session.scalar(select(Image.handed_over_at))) is None
    assert await outbox.relay_due_images(db) == 0  # not yet due: the grace period
    worker = await asyncio.to_thread(jobs.start_in_process, settings, poll_ms=50)
    try:
        later = utcnow() + outbox.HANDOVER_GRACE + timedelta(seconds=1)
        assert await outbox.relay_due_images(db, now=later) == 1
        node = await wait_ready(client, ada_headers, image_id)
    finally:
        await asyncio.to_thread(worker.stop)
    assert node["status"] == "READY"
