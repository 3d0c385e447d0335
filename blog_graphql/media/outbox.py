"""The image's own row is its job's outbox: written in the upload's transaction, handed to
the broker after commit, and handed over again by the relay when that never happened (the
process died in between, the broker was away) or no worker finished it in time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from blog_graphql.db.database import Database, utcnow
from blog_graphql.jobs import broker as jobs
from blog_graphql.jobs.relays import relay_loop
from blog_graphql.media.models import PROCESSING, Image

logger = logging.getLogger("blog_graphql.media")

# A committed upload is handed over at once; if not, the relay takes it once this old.
HANDOVER_GRACE = timedelta(seconds=30)
# Handed over but still PROCESSING this long after: the worker died; hand it over again.
CONFIRM_TIMEOUT = timedelta(minutes=10)
BATCH_SIZE = 100


async def hand_over_committed(db: Database, image_id: int) -> None:
    if await enqueue(image_id):
        await mark_handed_over(db, [image_id], utcnow())


async def enqueue(image_id: int) -> bool:
    from blog_graphql.media.actors import process_image  # after the broker is chosen

    try:
        await jobs.enqueue(process_image.message(image_id))
    except jobs.NoWorker as reason:
        logger.info("image %s waits for the relay: %s", image_id, reason)
        return False
    except Exception as error:  # any broker failure: the relay hands it over later
        logger.warning("could not hand image %s to the broker: %s", image_id, error)
        return False
    return True


async def mark_handed_over(db: Database, image_ids: list[int], now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Image)
            .where(Image.id.in_(image_ids), Image.status == PROCESSING)
            .values(handed_over_at=now)
            .execution_options(synchronize_session=False)
        )


async def relay_due_images(db: Database, *, now: datetime | None = None) -> int:
    """One pass: hand over every image never handed over, or handed over and unfinished
    too long; `handed_over_at` moves first, so relays on other workers skip them."""
    now = now or utcnow()
    async with db.transaction() as session:
        due = (
            select(Image.id)
            .where(
                Image.status == PROCESSING,
                or_(
                    Image.handed_over_at.is_(None) & (Image.created_at <= now - HANDOVER_GRACE),
                    Image.handed_over_at <= now - CONFIRM_TIMEOUT,
                ),
            )
            .order_by(Image.id)
            .limit(BATCH_SIZE)
        )
        claimed = await session.scalars(
            update(Image)
            .where(Image.id.in_(due), Image.status == PROCESSING)
            .values(handed_over_at=now)
            .returning(Image.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(claimed)
    handed = [image_id for image_id in ids if await enqueue(image_id)]
    left = sorted(set(ids) - set(handed))
    if left:  # due again on the next pass
        async with db.transaction() as session:
            await session.execute(
                update(Image)
                .where(Image.id.in_(left), Image.status == PROCESSING)
                .values(handed_over_at=None)
                .execution_options(synchronize_session=False)
            )
    return len(handed)


relay_forever = relay_loop("image", lambda db, _settings: relay_due_images(db), logger)
