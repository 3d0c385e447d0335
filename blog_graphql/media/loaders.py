"""Batched reads of images: by id, as posts' covers, as users' avatars; one statement each,
an image and its variants read together (a left join)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, FromClause, join, select

from blog_graphql.db.database import Database
from blog_graphql.db.keyset import PARENTS, AnyRow, AnySelect
from blog_graphql.db.statements import in_list
from blog_graphql.media.models import Image, ImageVariant, PostCover, UserAvatar


@dataclass(frozen=True)
class VariantRecord:
    name: str
    content_type: str
    key: str
    width: int
    height: int


@dataclass
class ImageRecord:
    id: int
    owner_id: int
    status: str
    alt: str | None
    width: int | None
    height: int | None
    failure_reason: str | None
    variants: list[VariantRecord] = field(default_factory=list)


_COLUMNS = (
    Image.id,
    Image.owner_id,
    Image.status,
    Image.alt,
    Image.width,
    Image.height,
    Image.failure_reason,
    ImageVariant.name.label("variant_name"),
    ImageVariant.content_type.label("variant_content_type"),
    ImageVariant.key.label("variant_key"),
    ImageVariant.width.label("variant_width"),
    ImageVariant.height.label("variant_height"),
)


def _with_variants(parent: ColumnElement[Any] | Any, source: FromClause) -> AnySelect:
    return (
        select(parent.label("parent"), *_COLUMNS)
        .select_from(source)
        .outerjoin(ImageVariant, ImageVariant.image_id == Image.id)
        .order_by(Image.id, ImageVariant.width, ImageVariant.content_type)
    )


@cache
def _images_by_id(dialect: str) -> AnySelect:
    return _with_variants(Image.id, Image.__table__).where(in_list(Image.id, PARENTS, dialect))


@cache
def _covers_of_posts(dialect: str) -> AnySelect:
    return _with_variants(
        PostCover.post_id, join(PostCover, Image, Image.id == PostCover.image_id)
    ).where(in_list(PostCover.post_id, PARENTS, dialect))


@cache
def _avatars_of_users(dialect: str) -> AnySelect:
    return _with_variants(
        UserAvatar.user_id, join(UserAvatar, Image, Image.id == UserAvatar.image_id)
    ).where(in_list(UserAvatar.user_id, PARENTS, dialect))


async def _by_parent(
    db: Database, statement: AnySelect, parents: Sequence[int]
) -> list[ImageRecord | None]:
    found: dict[int, ImageRecord] = {}
    for row in await db.read(statement, {PARENTS: sorted(set(parents))}):
        record = found.get(row.parent)
        if record is None:
            record = found[row.parent] = _record(row)
        if row.variant_name is not None:
            record.variants.append(
                VariantRecord(
                    row.variant_name,
                    row.variant_content_type,
                    row.variant_key,
                    row.variant_width,
                    row.variant_height,
                )
            )
    return [found.get(parent) for parent in parents]


def _record(row: AnyRow) -> ImageRecord:
    return ImageRecord(
        row.id, row.owner_id, row.status, row.alt, row.width, row.height, row.failure_reason
    )


async def load_images(db: Database, ids: Sequence[int]) -> list[ImageRecord | None]:
    return await _by_parent(db, _images_by_id(db.dialect), ids)


async def load_covers_of_posts(db: Database, post_ids: Sequence[int]) -> list[ImageRecord | None]:
    return await _by_parent(db, _covers_of_posts(db.dialect), post_ids)


async def load_avatars_of_users(db: Database, user_ids: Sequence[int]) -> list[ImageRecord | None]:
    return await _by_parent(db, _avatars_of_users(db.dialect), user_ids)
