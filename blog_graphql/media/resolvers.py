"""Image operations: upload (multipart, `http/uploads.py`), delete, and `node` refetch."""

from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.context import Info
from blog_graphql.errors import InvalidInput
from blog_graphql.media import service
from blog_graphql.media.storage import storage_for
from blog_graphql.media.types import Image, Upload, images_of
from blog_graphql.relay.ids import decode_id
from blog_graphql.relay.node import register_node


@register_node("Image")
async def fetch_image(info: Info, pk: int) -> Image | None:
    """Only to its uploader and admins (others meet images through covers and avatars)."""
    viewer = info.context.viewer
    record = await info.context.loaders.image.load(pk)
    if record is None or viewer is None or not (viewer.is_admin or record.owner_id == viewer.id):
        return None
    return images_of(info.context, [record])[0]


@strawberry.type
class MediaMutation:
    @strawberry.mutation(
        description="Upload an image (GraphQL multipart request, with a `GraphQL-Preflight: 1` "
        "header): JPEG, PNG, WebP or GIF, 10 MiB and 40 megapixels at most. It is PROCESSING "
        "until a background job has made its variants.",
        permission_classes=[IsAuthenticated],
    )
    async def upload_image(self, info: Info, file: Upload, alt: str | None = None) -> Image:
        upload: object = file
        if not isinstance(upload, UploadFile) or upload.size is None:
            raise InvalidInput({"file": "Send the file as a multipart upload."})
        context = info.context
        image = await service.upload_image(
            context.db,
            storage_for(context.settings),
            context.settings,
            owner=signed_in_user(info),
            source=upload.file,
            size=upload.size,
            alt=alt,
        )
        record = await context.loaders.image.load(image.id)
        assert record is not None  # just committed
        return images_of(context, [record])[0]  # type: ignore[return-value]

    @strawberry.mutation(
        description="Delete an image and every stored file of it (its uploader or an admin); "
        "posts and users showing it lose their cover or avatar.",
        permission_classes=[IsAuthenticated],
    )
    async def delete_image(self, info: Info, id: strawberry.ID) -> bool:
        await service.delete_image(
            info.context.db,
            storage_for(info.context.settings),
            viewer=signed_in_user(info),
            image_id=decode_id(id, "Image"),
        )
        return True
