"""Fixtures for the media tests: images made with Pillow, uploads through the real app."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image

from tests.emails.conftest import cli, run_cli  # noqa: F401 (the CLI fixtures, for media-sweep)
from tests.factories import auth_headers, create_user

UPLOAD = """mutation Upload($file: Upload!, $alt: String) {
  uploadImage(file: $file, alt: $alt) { id status alt width height url variants { name } }
}"""
PREFLIGHT = {"GraphQL-Preflight": "1"}


@pytest.fixture
def settings(settings, tmp_path):
    """The local storage in this test's own directory."""
    return settings.model_copy(update={"media_root": str(tmp_path / "media")})


def stored_files(settings) -> list[Path]:
    """Every file under the local storage's root."""
    root = Path(settings.media_root)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def inside(root: str, paths: list[Path]) -> bool:
    resolved = Path(root).resolve()
    return all(resolved in path.resolve().parents for path in paths)


def image_bytes(size: tuple[int, int] = (800, 600), kind: str = "JPEG", **options: Any) -> bytes:
    mode = "RGBA" if kind in ("PNG", "WEBP") else "RGB"
    image = Image.new(mode, size, (200, 80, 40, 255) if mode == "RGBA" else (200, 80, 40))
    for x in range(0, size[0], 7):  # some detail, so encoders have something to do
        image.putpixel((x, x % size[1]), (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    headers: dict[str, str] | None = None,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    alt: str | None = None,
    preflight: bool = True,
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"file": None, "alt": alt}}
    files = {
        "operations": (None, orjson.dumps(operations), "application/json"),
        "map": (None, orjson.dumps({"0": ["variables.file"]}), "application/json"),
        "0": (filename, data, content_type),
    }
    all_headers = {**(PREFLIGHT if preflight else {}), **(headers or {})}
    return await client.post("/graphql", files=files, headers=all_headers)


@pytest.fixture
async def ada(db):
    return await create_user(db, username="ada")


@pytest.fixture
async def ada_headers(db, settings, ada):
    return await auth_headers(db, settings, ada)
