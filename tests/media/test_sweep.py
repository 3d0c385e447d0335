"""Deleting a user: their images' rows go by cascade, their stored files by the sweep."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import delete, func, select

from blog_graphql.accounts.models import User
from blog_graphql.db.database import utcnow
from blog_graphql.media.models import Image, ImageVariant, PostCover
from blog_graphql.media.processing import process_image
from blog_graphql.media.storage import storage_for
from blog_graphql.media.sweep import sweep_orphans
from blog_graphql.relay.ids import parse_id
from tests.conftest import graphql
from tests.factories import auth_headers, create_user
from tests.media.conftest import image_bytes, stored_files, upload

URL = "query($id: ID!) { node(id: $id) { ... on Image { url } } }"


async def ready_image(client, db, settings, headers) -> tuple[str, str]:
    """An uploaded, processed image: its global id and its served URL."""
    response = await upload(client, image_bytes((640, 480)), headers=headers)
    image_id = response.json()["data"]["uploadImage"]["id"]
    assert await process_image(db, storage_for(settings), settings, parse_id(image_id)[1]) == (
        "READY"
    )
    body = await client.post(
        "/graphql", json={"query": URL, "variables": {"id": image_id}}, headers=headers
    )
    return image_id, body.json()["data"]["node"]["url"]


async def count(db, table) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_deleted_users_files_go_with_the_next_sweep_and_others_stay(
    client, db, settings, ada, ada_headers
):
    grace = await create_user(db, username="grace")
    grace_headers = await auth_headers(db, settings, grace)
    _, adas_url = await ready_image(client, db, settings, ada_headers)
    _, graces_url = await ready_image(client, db, settings, grace_headers)
    graces_files = [path for path in stored_files(settings) if path.parent.name in graces_url]
    assert len(graces_files) == 4 and len(stored_files(settings)) == 8  # thumb, medium x2

    async with db.transaction() as session:  # however a user goes: the rows follow
        await session.execute(delete(User).where(User.id == ada.id))
    assert await count(db, Image) == 1 and await count(db, ImageVariant) == 4
    assert (await client.get(adas_url)).status_code == 200  # served from storage until swept

    assert await sweep_orphans(db, storage_for(settings)) == 4
    assert stored_files(settings) == graces_files
    assert (await client.get(adas_url)).status_code == 404
    assert (await client.get(graces_url)).status_code == 200
    assert await sweep_orphans(db, storage_for(settings)) == 0  # idempotent


async def test_an_original_without_a_row_is_kept_through_the_grace_then_removed(db, settings):
    storage = storage_for(settings)
    key = "u/" + "ab" * 16  # an upload whose row has not committed (or never will)
    await storage.put(key, io.BytesIO(b"original bytes"), "application/octet-stream")
    assert await sweep_orphans(db, storage) == 0
    assert len(stored_files(settings)) == 1
    assert await sweep_orphans(db, storage, now=utcnow() + timedelta(hours=2)) == 1
    assert stored_files(settings) == []


async def test_a_waiting_upload_with_its_row_is_never_swept(client, db, settings, ada_headers):
    response = await upload(client, image_bytes((64, 48)), headers=ada_headers)
    assert response.json()["data"]["uploadImage"]["status"] == "PROCESSING"
    assert await sweep_orphans(db, storage_for(settings), now=utcnow() + timedelta(days=1)) == 0
    assert len(stored_files(settings)) == 1


async def test_deleting_a_post_drops_its_cover_link_and_keeps_the_image(
    client, db, settings, ada_headers
):
    image_id, url = await ready_image(client, db, settings, ada_headers)
    create = """mutation($input: CreatePostInput!) { createPost(input: $input) { id } }"""
    body = await graphql(client, create, {"input": {
        "title": "Covered", "content": "x", "published": True, "coverImageId": image_id}},
        ada_headers)  # fmt: skip
    post_id = body["data"]["createPost"]["id"]
    assert await count(db, PostCover) == 1
    body = await graphql(client, "mutation($id: ID!) { deletePost(id: $id) }", {"id": post_id},
                         ada_headers)  # fmt: skip
    assert body["data"]["deletePost"] is True
    assert await count(db, PostCover) == 0
    assert await sweep_orphans(db, storage_for(settings), now=utcnow() + timedelta(days=1)) == 0
    assert (await client.get(url)).status_code == 200  # the uploader's image stays
    node = await graphql(client, URL, {"id": image_id}, ada_headers)
    assert node["data"]["node"]["url"] == url


async def test_the_media_sweep_command_removes_a_deleted_users_files_at_once(
    client, db, settings, database_url, ada, ada_headers, run_cli
):
    _, url = await ready_image(client, db, settings, ada_headers)
    async with db.transaction() as session:
        await session.execute(delete(User).where(User.id == ada.id))
    env = {"DATABASE_URL": database_url, "REDIS_URL": "", "MEDIA_ROOT": settings.media_root}
    swept = await run_cli("media-sweep", env=env)
    assert swept.code == 0, swept.stderr
    assert swept.stdout.strip() == "removed 4 stored object(s) whose image is gone"
    assert stored_files(settings) == []
    assert (await client.get(url)).status_code == 404
