"""The S3 storage against a real S3-speaking server: moto's standalone server, started here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiobotocore.session import get_session
from sqlalchemy import delete

from blog_graphql.accounts.models import User
from blog_graphql.db.database import utcnow
from blog_graphql.media.processing import process_image
from blog_graphql.media.storage import storage_for
from blog_graphql.media.sweep import sweep_orphans
from blog_graphql.relay.ids import parse_id
from tests.conftest import graphql
from tests.media.conftest import image_bytes, upload


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto's server did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
async def bucket(moto_server, monkeypatch) -> str:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    name = f"media-{uuid.uuid4().hex[:12]}"
    async with get_session().create_client("s3", endpoint_url=moto_server) as s3:
        await s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def settings(settings, bucket, moto_server, tmp_path):
    return settings.model_copy(update={
        "media_s3_bucket": bucket, "media_s3_endpoint_url": moto_server,
        "media_root": str(tmp_path / "unused"),
    })  # fmt: skip


async def keys_in(bucket: str, endpoint: str) -> list[str]:
    async with get_session().create_client("s3", endpoint_url=endpoint) as s3:
        listed = await s3.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


async def test_s3_upload_process_serve_and_delete(client, db, settings, ada_headers, moto_server):
    bucket = settings.media_s3_bucket
    response = await upload(client, image_bytes((1200, 800)), headers=ada_headers)
    image_id = response.json()["data"]["uploadImage"]["id"]
    [waiting] = await keys_in(bucket, moto_server)
    assert waiting.startswith("u/")
    assert (
        await process_image(db, storage_for(settings), settings, parse_id(image_id)[1]) == "READY"
    )
    keys = await keys_in(bucket, moto_server)
    assert len(keys) == 6 and all(key.startswith("i/") for key in keys)

    query = (
        "query($id: ID!) { node(id: $id) { ... on Image { url variants { url contentType } } } }"
    )
    node = (await graphql(client, query, {"id": image_id}, ada_headers))["data"]["node"]
    for variant in node["variants"]:
        served = await client.get(variant["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == variant["contentType"]
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert int(served.headers["content-length"]) == len(served.content) > 0
    assert (await client.get(node["url"].replace("large", "thumb").replace(".jpg", ".png"))
            ).status_code == 404  # fmt: skip

    body = await graphql(client, "mutation($id: ID!) { deleteImage(id: $id) }", {"id": image_id},
                         ada_headers)  # fmt: skip
    assert body["data"]["deleteImage"] is True
    assert await keys_in(bucket, moto_server) == []


async def test_s3_refusals_store_nothing(client, settings, ada_headers, moto_server):
    too_big = image_bytes((64, 64), "PNG") + b"\0" * (11 * 1024 * 1024)
    assert (await upload(client, too_big, headers=ada_headers)).status_code == 413
    refused = await upload(client, b"not an image", headers=ada_headers)
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await keys_in(settings.media_s3_bucket, moto_server) == []


async def test_s3_a_deleted_users_objects_go_with_the_next_sweep(
    client, db, settings, ada, ada_headers, moto_server
):
    bucket = settings.media_s3_bucket
    response = await upload(client, image_bytes((640, 480)), headers=ada_headers)
    image_id = parse_id(response.json()["data"]["uploadImage"]["id"])[1]
    assert await process_image(db, storage_for(settings), settings, image_id) == "READY"
    waiting = await upload(client, image_bytes((64, 48)), headers=ada_headers)  # not processed
    assert waiting.json()["data"]["uploadImage"]["status"] == "PROCESSING"
    assert len(await keys_in(bucket, moto_server)) == 5

    async with db.transaction() as session:
        await session.execute(delete(User).where(User.id == ada.id))
    # The variants go at the next pass; the waiting original once past the grace.
    assert await sweep_orphans(db, storage_for(settings)) == 4
    [original] = await keys_in(bucket, moto_server)
    assert original.startswith("u/")
    later = utcnow() + timedelta(hours=2)
    assert await sweep_orphans(db, storage_for(settings), now=later) == 1
    assert await keys_in(bucket, moto_server) == []
