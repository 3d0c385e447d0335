"""Image use cases: upload, delete, and using an image as a cover or an avatar."""

from __future__ import annotations

import secrets
from functools import partial
from typing import IO, Any

from sqlalchemy import ScalarSelect, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.errors import InvalidInput, NotFound
from blog_graphql.media import imaging, outbox
from blog_graphql.media.models import PROCESSING, Image, ImageVariant, PostCover, UserAvatar
from blog_graphql.media.storage import Storage

MAX_ALT_LENGTH = 500


def original_key(token: str) -> str:
    return f"u/{token}"


async def upload_image(
    db: Database,
    storage: Storage,
    settings: Settings,
    *,
    owner: User,
    source: IO[bytes],
    size: int,
    alt: str | None,
) -> Image:
    """Check the bytes, keep them, record the image PROCESSING; a worker makes the variants
    once the row is committed (`outbox`)."""
    alt = _checked_alt(alt)
    try:
        inspected = await run_in_threadpool(imaging.inspect, source, settings.media_max_pixels)
    except imaging.NotAnImage as refusal:
        raise InvalidInput({"file": str(refusal)}) from None
    await _check_quota(db, owner, size, settings.media_user_quota_bytes)
    token = secrets.token_hex(16)
    await storage.put(original_key(token), source, "application/octet-stream")
    try:
        async with db.transaction() as session:
            image_id = await _insert_within_quota(
                session,
                owner,
                settings.media_user_quota_bytes,
                token=token,
                status=PROCESSING,
                alt=alt,
                original_key=original_key(token),
                original_format=inspected.format,
                byte_size=size,
                width=inspected.width,
                height=inspected.height,
                created_at=utcnow(),
            )
            image = await session.get_one(Image, image_id)
            after_commit(session, partial(outbox.hand_over_committed, db, image.id))
    except BaseException:
        await storage.delete([original_key(token)])  # recorded nowhere: nothing may stay
        raise
    return image


def _checked_alt(alt: str | None) -> str | None:
    alt = alt.strip() if alt is not None else None
    if alt and len(alt) > MAX_ALT_LENGTH:
        raise InvalidInput({"alt": f"Use at most {MAX_ALT_LENGTH} characters."})
    return alt or None


def _used_by(owner: User) -> ScalarSelect[int]:
    return (
        select(func.coalesce(func.sum(Image.byte_size), 0))
        .where(Image.owner_id == owner.id)
        .scalar_subquery()
    )


async def _check_quota(db: Database, owner: User, size: int, quota: int) -> None:
    """Early, before the bytes are stored: most refusals cost no write."""
    async with db.session() as session:
        used = int(await session.scalar(select(_used_by(owner))) or 0)
    if used + size > quota:
        raise _over_quota(quota, used)


async def _insert_within_quota(
    session: AsyncSession, owner: User, quota: int, **values: Any
) -> int:
    """The image's row, only if the owner's images stay within the quota with it: one
    statement (SQLite runs one writer at a time, and this is the transaction's first), after
    a lock on the owner's row on PostgreSQL, so concurrent uploads are checked one by one."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    values = {"owner_id": owner.id, **values}
    names = list(values)
    columns = Image.__table__.c
    row = select(*(literal(value, columns[name].type) for name, value in values.items())).where(
        _used_by(owner) + values["byte_size"] <= quota
    )
    image_id = await session.scalar(
        insert(Image).from_select(names, row, include_defaults=False).returning(Image.id)
    )
    if image_id is None:
        used = int(await session.scalar(select(_used_by(owner))) or 0)
        raise _over_quota(quota, used)
    return int(image_id)


def _over_quota(quota: int, used: int) -> InvalidInput:
    return InvalidInput(
        {"file": f"Your images would exceed your storage quota of {_mebibytes(quota)}."},
        f"Storage quota exceeded: each user may keep {_mebibytes(quota)} of images "
        f"({quota} bytes); {used} bytes are in use.",
    )


def _mebibytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


async def delete_image(db: Database, storage: Storage, *, viewer: User, image_id: int) -> None:
    """Its uploader's or an admin's; every stored object goes once the row is gone."""
    async with db.transaction() as session:
        image = await _image_of(session, image_id, viewer, admins_too=True)
        variant_keys = await session.scalars(
            select(ImageVariant.key).where(ImageVariant.image_id == image.id)
        )
        keys = [*variant_keys, *([image.original_key] if image.original_key else [])]
        # Explicit, not left to ON DELETE CASCADE: SQLite enforces it only when asked to.
        for table in (ImageVariant, PostCover, UserAvatar):
            await session.execute(delete(table).where(table.image_id == image.id))
        await session.execute(delete(Image).where(Image.id == image.id))
        after_commit(session, partial(storage.delete, keys))


async def _image_of(
    session: AsyncSession, image_id: int, viewer: User, *, admins_too: bool
) -> Image:
    """An image the viewer uploaded (or any, for an admin when `admins_too`); others'
    images do not exist for them."""
    image = await session.get(Image, image_id)
    mine = image is not None and image.owner_id == viewer.id
    if image is None or not (mine or (admins_too and viewer.is_admin)):
        raise NotFound("No such image.", fields={"id": "No such image."})
    return image


async def use_as_cover(
    session: AsyncSession, *, owners: set[int], post_id: int, image_id: int | None
) -> None:
    """Inside the post's transaction: `image_id` (uploaded by one of `owners`: the editor,
    the post's author) becomes its cover; None removes the cover."""
    await session.execute(delete(PostCover).where(PostCover.post_id == post_id))
    if image_id is not None:
        await _own_image(session, owners, image_id, "coverImageId")
        session.add(PostCover(post_id=post_id, image_id=image_id))


async def use_as_avatar(session: AsyncSession, *, user: User, image_id: int | None) -> None:
    await session.execute(delete(UserAvatar).where(UserAvatar.user_id == user.id))
    if image_id is not None:
        await _own_image(session, {user.id}, image_id, "avatarImageId")
        session.add(UserAvatar(user_id=user.id, image_id=image_id))


async def _own_image(session: AsyncSession, owners: set[int], image_id: int, field: str) -> None:
    # Others' images do not exist here, even for admins: whoever uploaded an image may
    # delete it, and a cover or avatar must not vanish by someone else's hand.
    owner = await session.scalar(select(Image.owner_id).where(Image.id == image_id))
    if owner is None or owner not in owners:
        raise NotFound("No such image.", fields={field: "No such image."})
