"""The background half of an upload: variants made from the kept original, then READY.

Safe to run twice (a redelivered message, the relay's second hand-over): an image that is
no longer PROCESSING is left alone, variant keys are fixed per image so a second run
overwrites the first one's files, and the variants' rows and READY commit together. Files
are stored whole before that commit (`storage.put` is atomic), and nothing lists them
before it, so a worker dying half-way leaves nothing half-written that anyone is served.
"""

from __future__ import annotations

import io
import logging
import tempfile
from typing import IO

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.media import imaging
from blog_graphql.media.models import FAILED, PROCESSING, READY, Image, ImageVariant
from blog_graphql.media.storage import Storage, StorageError

logger = logging.getLogger("blog_graphql.media")


def variant_key(token: str, rendition: imaging.Rendition) -> str:
    return f"i/{token}/{rendition.name}.{rendition.extension}"


async def process_image(db: Database, storage: Storage, settings: Settings, image_id: int) -> str:
    """Make the image's variants; answers its status afterwards (or "GONE")."""
    async with db.session() as session:
        image = await session.get(Image, image_id)
    if image is None:
        return "GONE"
    if image.status != PROCESSING or image.original_key is None:
        return image.status
    with tempfile.TemporaryFile() as original:
        try:
            await storage.fetch(image.original_key, original)
        except StorageError:
            logger.warning("image %s: its original is missing", image_id)
            return await _fail(db, storage, image, "The uploaded file was lost before processing.")
        try:
            upright, renditions = await run_in_threadpool(
                imaging.render, original, settings.media_max_pixels
            )
        except imaging.NotAnImage as refusal:
            return await _fail(db, storage, image, str(refusal))
        except Exception:  # Pillow on a file that passed the checks: a reason, no trace
            logger.exception("image %s could not be processed", image_id)
            return await _fail(db, storage, image, "The image could not be processed.")
    return await _store_variants(db, storage, image, upright, renditions)


async def _store_variants(
    db: Database,
    storage: Storage,
    image: Image,
    upright: imaging.Inspected,
    renditions: list[imaging.Rendition],
) -> str:
    keys = [variant_key(image.token, rendition) for rendition in renditions]
    for key, rendition in zip(keys, renditions, strict=True):
        await storage.put(key, _bytes_io(rendition.data), rendition.content_type)
    async with db.transaction() as session:
        current = await session.scalar(
            select(Image.status).where(Image.id == image.id).with_for_update()
        )
        if current == PROCESSING:
            await session.execute(delete(ImageVariant).where(ImageVariant.image_id == image.id))
            session.add_all(
                ImageVariant(
                    image_id=image.id,
                    name=rendition.name,
                    content_type=rendition.content_type,
                    key=key,
                    width=rendition.width,
                    height=rendition.height,
                    byte_size=len(rendition.data),
                )
                for key, rendition in zip(keys, renditions, strict=True)
            )
            await _finish(session, image.id, READY, upright.width, upright.height)
    if current is None:  # deleted meanwhile: its files must not outlive it
        await storage.delete([*keys, *([image.original_key] if image.original_key else [])])
        return "GONE"
    if current == PROCESSING and image.original_key:
        await storage.delete([image.original_key])  # the variants replace it
    return READY if current == PROCESSING else str(current)


async def _fail(db: Database, storage: Storage, image: Image, reason: str) -> str:
    async with db.transaction() as session:
        variant_keys = list(
            await session.scalars(select(ImageVariant.key).where(ImageVariant.image_id == image.id))
        )
        await session.execute(delete(ImageVariant).where(ImageVariant.image_id == image.id))
        await _finish(session, image.id, FAILED, None, None, reason)
    await storage.delete([*variant_keys, *([image.original_key] if image.original_key else [])])
    return FAILED


async def _finish(
    session: AsyncSession,
    image_id: int,
    status: str,
    width: int | None,
    height: int | None,
    reason: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "original_key": None, "failure_reason": reason}
    if width is not None:
        values.update(width=width, height=height)
    await session.execute(
        update(Image)
        .where(Image.id == image_id, Image.status == PROCESSING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _bytes_io(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)
