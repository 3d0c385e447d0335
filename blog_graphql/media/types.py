"""GraphQL shapes of images: `Image`, its variants, its status, and the `Upload` scalar."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from blog_graphql.context import Context
from blog_graphql.db.table_tags import record_process_state_read
from blog_graphql.media import models
from blog_graphql.media.loaders import ImageRecord
from blog_graphql.relay.node import Node

__all__ = ["Image", "ImageStatus", "ImageVariant", "Upload", "images_of"]


@strawberry.enum(description="Where an upload is: being made into variants, servable, or refused.")
class ImageStatus(Enum):
    PROCESSING = models.PROCESSING
    READY = models.READY
    FAILED = models.FAILED


@strawberry.type(description="One stored rendition of an image: a size in one format.")
class ImageVariant:
    name: str = strawberry.field(
        description='"thumb" (320 px wide), "medium" (960) or "large" (1920).'
    )
    url: str
    width: int
    height: int
    content_type: str = strawberry.field(description="`image/webp`, or the original's format.")


@strawberry.type(description="An uploaded image; served once READY, re-encoded without metadata.")
class Image(Node):
    pk: strawberry.Private[int]
    owner_id: strawberry.Private[int]
    status: ImageStatus
    alt: str | None = strawberry.field(description="Alternative text, as given at upload.")
    width: int | None = strawberry.field(
        description="The original's, upright (EXIF orientation applied); null until READY."
    )
    height: int | None
    failure_reason: str | None = strawberry.field(description="Why a FAILED image was refused.")
    url: str | None = strawberry.field(
        description="The largest variant, in the original's format where there is one "
        "(else WebP); null until READY."
    )
    variants: list[ImageVariant] = strawberry.field(
        description="Each size in WebP, plus JPEG or PNG where a browser may need it; "
        "empty until READY."
    )

    @classmethod
    def from_record(cls, record: ImageRecord, media_url: str) -> Image:
        if record.status == models.PROCESSING:
            # A worker will change this row; the response cache must not keep the answer.
            record_process_state_read()
        variants = [
            ImageVariant(
                name=variant.name,
                url=f"{media_url}/{variant.key}",
                width=variant.width,
                height=variant.height,
                content_type=variant.content_type,
            )
            for variant in record.variants
        ]
        ready = record.status == models.READY
        return cls(
            pk=record.id,
            owner_id=record.owner_id,
            status=ImageStatus(record.status),
            alt=record.alt,
            width=record.width if ready else None,
            height=record.height if ready else None,
            failure_reason=record.failure_reason,
            url=_main_url(variants) if ready else None,
            variants=variants if ready else [],
        )


def _main_url(variants: Sequence[ImageVariant]) -> str | None:
    if not variants:
        return None
    largest = max(variant.width for variant in variants)
    candidates = [variant for variant in variants if variant.width == largest]
    fallback = [variant for variant in candidates if variant.content_type != "image/webp"]
    return (fallback or candidates)[0].url


def images_of(context: Context, records: Sequence[ImageRecord | None]) -> list[Image | None]:
    base = context.settings.media_url.rstrip("/")
    return [Image.from_record(record, base) if record else None for record in records]
