"""The S3 storage: an S3-compatible bucket through aiobotocore (credentials: the usual AWS
variables and files, as botocore finds them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import IO, Any

from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from starlette.concurrency import run_in_threadpool

from blog_graphql.media.storage import (
    CHUNK_BYTES,
    KEY,
    StorageError,
    StoredObject,
    check_key,
)

MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Storage:
    """One client per operation: the API and each worker run their own event loops, and
    an operation is rare next to its transfer (an upload, a variant, a served file)."""

    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.session = get_session()

    def client(self) -> AbstractAsyncContextManager[Any]:
        client: AbstractAsyncContextManager[Any] = self.session.create_client(
            "s3", endpoint_url=self.endpoint_url
        )
        return client

    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        await run_in_threadpool(source.seek, 0)
        try:
            async with self.client() as s3:
                # S3 writes an object whole or not at all: nothing half-written is served.
                await s3.put_object(
                    Bucket=self.bucket,
                    Key=check_key(key),
                    Body=source,
                    ContentType=content_type,
                    CacheControl="public, max-age=31536000, immutable",
                )
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"could not store {key}: {error}") from error

    async def fetch(self, key: str, target: IO[bytes]) -> None:
        try:
            async with self.client() as s3:
                answer = await s3.get_object(Bucket=self.bucket, Key=check_key(key))
                async with answer["Body"] as body:
                    while chunk := await body.read(CHUNK_BYTES):
                        await run_in_threadpool(target.write, chunk)
        except ClientError as error:
            raise StorageError(f"could not read {key}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"could not read {key}: {error}") from error

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        objects = [{"Key": check_key(key)} for key in keys]
        try:
            async with self.client() as s3:
                for start in range(0, len(objects), 1000):  # S3's limit per request
                    await s3.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": objects[start : start + 1000], "Quiet": True},
                    )
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"could not delete {len(keys)} object(s): {error}") from error

    async def open(self, key: str) -> StoredObject | None:
        try:
            async with self.client() as s3:
                head = await s3.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise StorageError(f"could not read {key}: {error}") from error
        return StoredObject(int(head["ContentLength"]), self._chunks(key))

    async def listing(self) -> list[tuple[str, datetime]]:
        found = []
        try:
            async with self.client() as s3:
                pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                async for page in pages:
                    for item in page.get("Contents", []):
                        if KEY.fullmatch(item["Key"]):
                            found.append((item["Key"], item["LastModified"]))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"could not list the bucket: {error}") from error
        return found

    async def _chunks(self, key: str) -> AsyncIterator[bytes]:
        async with self.client() as s3:
            answer = await s3.get_object(Bucket=self.bucket, Key=key)
            async with answer["Body"] as body:
                while chunk := await body.read(CHUNK_BYTES):
                    yield chunk
