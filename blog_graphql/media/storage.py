"""Where image files are kept: one small interface, a local directory or an S3 bucket.

Keys are ours alone (`u/<token>` for an upload waiting to be processed, `i/<token>/<name>.<ext>`
for variants), never a client's file name. A write is all or nothing: a reader (the
`/media/` route, Caddy, a CDN) sees a whole file or none.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from starlette.concurrency import run_in_threadpool

from blog_graphql.config.settings import Settings

KEY = re.compile(r"[ui]/[0-9a-f]{32}(/[a-z]+\.[a-z]+)?")
SERVED_KEY = re.compile(r"i/[0-9a-f]{32}/[a-z]+\.(webp|jpg|png)")
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
CHUNK_BYTES = 64 * 1024


class StorageError(Exception):
    """The storage did not do what was asked (a missing object, an unreachable server)."""


@dataclass(frozen=True)
class StoredObject:
    """An object to serve: its size, and its bytes as they are read."""

    size: int
    chunks: AsyncIterator[bytes]


class Storage(Protocol):
    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        """Store what `source` holds from its start, replacing any object at `key`."""

    async def fetch(self, key: str, target: IO[bytes]) -> None:
        """Write the object's bytes into `target`; StorageError when it is missing."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove these objects; missing ones are no error."""

    async def open(self, key: str) -> StoredObject | None:
        """The object to serve, or None when there is none."""

    async def listing(self) -> list[tuple[str, datetime]]:
        """Every stored key with the time it was written (for the orphan sweep)."""


def check_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class LocalStorage:
    """A directory (`MEDIA_ROOT`). Files are written under a temporary name in their own
    directory, then renamed: a rename is atomic, so no half-written file is ever served."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        await run_in_threadpool(self._put, self.path_of(key), source)

    def _put(self, path: Path, source: IO[bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            source.seek(0)
            with temporary.open("wb") as target:
                shutil.copyfileobj(source, target, CHUNK_BYTES)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    async def fetch(self, key: str, target: IO[bytes]) -> None:
        await run_in_threadpool(self._fetch, self.path_of(key), target)

    @staticmethod
    def _fetch(path: Path, target: IO[bytes]) -> None:
        try:
            with path.open("rb") as source:
                shutil.copyfileobj(source, target, CHUNK_BYTES)
        except FileNotFoundError:
            raise StorageError(f"no object {path.name}") from None

    async def delete(self, keys: Sequence[str]) -> None:
        await run_in_threadpool(self._delete, [self.path_of(key) for key in keys])

    @staticmethod
    def _delete(paths: Sequence[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            parent = path.parent
            if parent.name != "u" and parent.exists() and not any(parent.iterdir()):
                parent.rmdir()  # an image's directory, once its last variant is gone

    async def open(self, key: str) -> StoredObject | None:
        path = self.path_of(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return StoredObject(size, _read_file(path))

    async def listing(self) -> list[tuple[str, datetime]]:
        return await run_in_threadpool(self._listing)

    def _listing(self) -> list[tuple[str, datetime]]:
        found = []
        for path in self.root.glob("[ui]/**/*"):
            key = path.relative_to(self.root).as_posix()
            if not KEY.fullmatch(key):  # a folder, or a temporary `.part` file
                continue
            try:
                status = path.stat()
            except FileNotFoundError:  # removed meanwhile
                continue
            if stat.S_ISREG(status.st_mode):  # `i/<token>` is an image's folder
                found.append((key, datetime.fromtimestamp(status.st_mtime, UTC)))
        return found


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := await run_in_threadpool(source.read, CHUNK_BYTES):
            yield chunk


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name: the S3 bucket when one is set, else `MEDIA_ROOT`."""
    if settings.media_s3_bucket:
        from blog_graphql.media.s3 import S3Storage  # botocore loads only where it is used

        return S3Storage(settings.media_s3_bucket, settings.media_s3_endpoint_url)
    return LocalStorage(settings.media_root)
