"""Uploading images: the multipart request, what is refused, what is stored."""

from __future__ import annotations

import io
import os
from typing import Any

from PIL import Image

from blog_graphql.media.processing import process_image
from blog_graphql.media.storage import storage_for
from blog_graphql.relay.ids import parse_id
from tests.factories import auth_headers, create_user
from tests.media.conftest import image_bytes, inside, stored_files, upload

GIF_HTML = image_bytes((40, 30), "GIF") + b"<html><script>alert(document.cookie)</script></html>"


def error_of(response) -> Any:
    body = response.json()
    assert body.get("data") is None or body["data"].get("uploadImage") is None, body
    return body["errors"][0]


async def process(db, settings, response) -> str:
    _, pk = parse_id(response.json()["data"]["uploadImage"]["id"])
    return await process_image(db, storage_for(settings), settings, pk)


async def test_an_upload_is_processing_then_ready_with_variants_served_immutable(
    client, db, settings, ada_headers
):
    data = image_bytes((2400, 1200), "JPEG", quality=90)
    response = await upload(client, data, headers=ada_headers, alt="A red field")

    image = response.json()["data"]["uploadImage"]
    assert image["status"] == "PROCESSING"
    assert image["alt"] == "A red field"
    assert image["url"] is None and image["variants"] == []
    assert await process(db, settings, response) == "READY"

    query = """query($id: ID!) { node(id: $id) { ... on Image { status width height url
      variants { name url width height contentType } } } }"""
    body = (await client.post(
        "/graphql", json={"query": query, "variables": {"id": image["id"]}}, headers=ada_headers
    )).json()  # fmt: skip
    ready = body["data"]["node"]
    assert (ready["status"], ready["width"], ready["height"]) == ("READY", 2400, 1200)
    sizes = {(v["name"], v["contentType"]): (v["width"], v["height"]) for v in ready["variants"]}
    assert sizes == {
        ("thumb", "image/webp"): (320, 160), ("thumb", "image/jpeg"): (320, 160),
        ("medium", "image/webp"): (960, 480), ("medium", "image/jpeg"): (960, 480),
        ("large", "image/webp"): (1920, 960), ("large", "image/jpeg"): (1920, 960),
    }  # fmt: skip
    assert ready["url"].startswith("/media/i/") and ready["url"].endswith("/large.jpg")
    for variant in ready["variants"]:
        served = await client.get(variant["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == variant["contentType"]
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        with Image.open(io.BytesIO(served.content)) as image:
            assert image.size == (variant["width"], variant["height"])
    # The upload itself is gone once processed; only the variants stay.
    assert all("/i/" in str(path) for path in stored_files(settings))


async def test_variants_are_never_wider_than_the_original(client, db, settings, ada_headers):
    response = await upload(client, image_bytes((500, 400), "PNG"), headers=ada_headers)
    await process(db, settings, response)
    query = """query($id: ID!) { node(id: $id) { ... on Image {
      url variants { name width contentType } } } }"""
    variables = {"id": response.json()["data"]["uploadImage"]["id"]}
    body = (
        await client.post("/graphql", json={"query": query, "variables": variables},
                          headers=ada_headers)
    ).json()  # fmt: skip
    variants = {(v["name"], v["contentType"], v["width"]) for v in body["data"]["node"]["variants"]}
    assert variants == {
        ("thumb", "image/webp", 320), ("thumb", "image/png", 320),
        ("medium", "image/webp", 500), ("medium", "image/png", 500),
    }  # fmt: skip
    assert body["data"]["node"]["url"].endswith("/medium.png")


async def test_exif_and_gps_never_reach_a_reader(client, db, settings, ada_headers):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo
    response = await upload(client, image_bytes((640, 480), "JPEG", exif=exif), headers=ada_headers)
    await process(db, settings, response)
    files = stored_files(settings)
    assert files
    for path in files:
        content = path.read_bytes()
        assert b"SpyCam" not in content and b"Exif" not in content
        with Image.open(path) as image:
            assert not image.getexif()


async def test_a_gif_becomes_webp_and_png(client, db, settings, ada_headers):
    response = await upload(client, image_bytes((100, 80), "GIF"), headers=ada_headers)
    assert await process(db, settings, response) == "READY"
    assert sorted(path.suffix for path in stored_files(settings)) == [".png", ".webp"]


async def test_no_preflight_header_is_bad_request_and_nothing_stored(client, settings, ada_headers):
    response = await upload(client, image_bytes(), headers=ada_headers, preflight=False)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert stored_files(settings) == []


async def test_apollo_preflight_header_is_accepted(client, ada_headers):
    headers = {**ada_headers, "Apollo-Require-Preflight": "true"}
    response = await upload(client, image_bytes(), headers=headers, preflight=False)
    assert response.json()["data"]["uploadImage"]["status"] == "PROCESSING"


async def assert_refused_file(client, settings, headers, data, words, **kwargs) -> None:
    response = await upload(client, data, headers=headers, **kwargs)
    error = error_of(response)
    assert response.status_code == 200
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert words in error["extensions"]["fields"]["file"]
    assert stored_files(settings) == []


async def test_not_an_image_is_refused_on_file(client, settings, ada_headers):
    await assert_refused_file(
        client, settings, ada_headers, b"%PDF-1.7 not an image at all", "Not an image"
    )


async def test_svg_with_an_image_name_and_type_is_refused(client, settings, ada_headers):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    await assert_refused_file(client, settings, ada_headers, svg, "HTML")


async def test_a_gif_that_is_also_html_is_refused(client, settings, ada_headers):
    await assert_refused_file(client, settings, ada_headers, GIF_HTML, "HTML", filename="a.gif")


async def test_a_gif_that_is_also_a_zip_is_refused(client, settings, ada_headers):
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "hidden")
    gif_zip = image_bytes((40, 30), "GIF") + archive.getvalue()
    await assert_refused_file(client, settings, ada_headers, gif_zip, "archive")


async def test_a_truncated_image_is_refused(client, settings, ada_headers):
    data = image_bytes((1200, 900), "PNG")
    await assert_refused_file(client, settings, ada_headers, data[: len(data) // 2], "incomplete")


async def test_a_truncated_jpeg_is_refused(client, settings, ada_headers):
    data = image_bytes((1200, 900), "JPEG", quality=95)
    await assert_refused_file(client, settings, ada_headers, data[: len(data) // 2], "incomplete")


async def test_a_decompression_bomb_is_refused(client, settings, ada_headers):
    bomb = image_bytes((10_000, 10_000), "PNG", optimize=True)  # small file, 100 megapixels
    assert len(bomb) < 1024 * 1024
    await assert_refused_file(client, settings, ada_headers, bomb, "40,000,000 pixels")


async def test_eleven_mebibytes_is_413_and_nothing_stored(client, db, settings, ada_headers):
    big = image_bytes((64, 64), "PNG") + b"\0" * (11 * 1024 * 1024)
    response = await upload(client, big, headers=ada_headers)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert stored_files(settings) == []
    async with db.session() as session:
        from sqlalchemy import func, select

        from blog_graphql.media.models import Image as ImageRow

        assert await session.scalar(select(func.count()).select_from(ImageRow)) == 0


async def test_the_1_mib_limit_still_holds_for_json_bodies(client, ada_headers):
    query = "{ me { id } }" + " " * (1024 * 1024)
    response = await client.post("/graphql", json={"query": query}, headers=ada_headers)
    assert response.status_code == 413


async def test_anonymous_upload_is_unauthenticated(client, settings):
    response = await upload(client, image_bytes())
    assert error_of(response)["extensions"]["code"] == "UNAUTHENTICATED"
    assert stored_files(settings) == []


async def test_the_client_file_name_is_ignored(client, db, settings, ada_headers):
    response = await upload(client, image_bytes(), headers=ada_headers, filename="../../etc/passwd")
    assert response.json()["data"]["uploadImage"]["status"] == "PROCESSING"
    await process(db, settings, response)
    files = stored_files(settings)
    assert files and inside(settings.media_root, files)
    assert not any("passwd" in str(path) for path in files)


async def test_a_string_instead_of_a_file_is_bad_user_input(client, ada_headers):
    query = 'mutation { uploadImage(file: "not a file") { id } }'
    body = (await client.post("/graphql", json={"query": query}, headers=ada_headers)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_quota_exceeded_names_the_quota(client, db, settings, tmp_path):
    quota = 50_000
    small = settings.model_copy(update={"media_user_quota_bytes": quota})
    import httpx

    from blog_graphql.app import create_app
    from blog_graphql.state import AppState

    app = create_app(state=AppState(settings=small, db=db))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        user = await create_user(db, username="quota")
        headers = await auth_headers(db, small, user)
        first = image_bytes((300, 300), "PNG")
        assert len(first) < quota
        assert (await upload(c, first, headers=headers)).json()["data"]["uploadImage"]
        noise = Image.frombytes("RGB", (150, 150), os.urandom(150 * 150 * 3))
        buffer = io.BytesIO()
        noise.save(buffer, "PNG")
        assert len(first) + len(buffer.getvalue()) > quota
        response = await upload(c, buffer.getvalue(), headers=headers)
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "quota" in error["message"] and str(quota) in error["message"]
        assert "quota" in error["extensions"]["fields"]["file"]


async def test_media_route_serves_only_variant_names(client, db, settings, ada_headers):
    response = await upload(client, image_bytes(), headers=ada_headers)
    pending = [p for p in stored_files(settings) if p.parent.name == "u"]
    assert pending  # the upload waits for processing...
    served = await client.get(f"/media/u/{pending[0].name}")
    assert served.status_code == 404  # ...and is never served: it still has its metadata
    assert (await client.get("/media/../../etc/passwd")).status_code == 404
    assert (await client.get("/media/i/" + "0" * 32 + "/large.jpg")).status_code == 404
    assert response.status_code == 200


async def test_html_in_a_gif_comment_is_refused(client, settings, ada_headers):
    commented = image_bytes((40, 30), "GIF", comment=b"<script>alert(1)</script>")
    await assert_refused_file(client, settings, ada_headers, commented, "HTML")


async def test_a_photo_like_high_entropy_jpeg_is_accepted(client, ada_headers):
    """Compressed bytes look random; markup checks must not fire on them by chance."""
    noise = Image.frombytes("RGB", (1500, 1100), os.urandom(1500 * 1100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    assert len(buffer.getvalue()) > 1_000_000
    response = await upload(client, buffer.getvalue(), headers=ada_headers)
    assert response.json()["data"]["uploadImage"]["status"] == "PROCESSING"
