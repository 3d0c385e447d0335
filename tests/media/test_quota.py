"""The storage quota holds under concurrent uploads: each is checked against the others."""

from __future__ import annotations

import asyncio
import io

from sqlalchemy import func, select

from blog_graphql.errors import InvalidInput
from blog_graphql.media.models import Image
from blog_graphql.media.service import upload_image
from blog_graphql.media.storage import storage_for
from tests.media.conftest import image_bytes, stored_files


async def test_concurrent_uploads_never_pass_the_quota_together(db, settings, ada):
    data = image_bytes((200, 150), "PNG")
    quota = 3 * len(data) + len(data) // 2  # room for three, not four
    small = settings.model_copy(update={"media_user_quota_bytes": quota})

    async def one() -> Image:
        return await upload_image(
            db, storage_for(small), small, owner=ada, source=io.BytesIO(data),
            size=len(data), alt=None,
        )  # fmt: skip

    outcomes = await asyncio.gather(*(one() for _ in range(8)), return_exceptions=True)
    stored = [outcome for outcome in outcomes if isinstance(outcome, Image)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidInput)]
    assert (len(stored), len(refused)) == (3, 5), outcomes
    async with db.session() as session:
        used = await session.scalar(
            select(func.sum(Image.byte_size)).where(Image.owner_id == ada.id)
        )
    assert used == 3 * len(data) <= quota
    assert len(stored_files(small)) == 3  # a refused upload's bytes do not stay
