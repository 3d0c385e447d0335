"""Images in use: covers, avatars, Markdown, deletion, and the feed's statement count."""

from __future__ import annotations

from blog_graphql.media.processing import process_image
from blog_graphql.media.storage import storage_for
from blog_graphql.posts.markdown import render_markdown
from blog_graphql.relay.ids import parse_id
from tests.conftest import graphql
from tests.factories import auth_headers, create_post, create_user
from tests.media.conftest import image_bytes, stored_files, upload

CREATE = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { id coverImage { id status url } } }"""
UPDATE = """mutation($id: ID!, $input: UpdatePostInput!) {
  updatePost(id: $id, input: $input) { coverImage { id } } }"""


async def uploaded(client, db, settings, headers) -> str:
    response = await upload(client, image_bytes((1000, 500)), headers=headers)
    image_id: str = response.json()["data"]["uploadImage"]["id"]
    await process_image(db, storage_for(settings), settings, parse_id(image_id)[1])
    return image_id


async def test_a_cover_image_is_set_shown_and_removed(client, db, settings, ada_headers):
    image_id = await uploaded(client, db, settings, ada_headers)
    body = await graphql(client, CREATE, {"input": {
        "title": "Covered", "content": "x", "published": True, "coverImageId": image_id}},
        ada_headers)  # fmt: skip
    post = body["data"]["createPost"]
    assert post["coverImage"]["id"] == image_id
    assert post["coverImage"]["url"].endswith("/large.jpg")
    anonymous = await graphql(client, "{ posts { edges { node { coverImage { url } } } } }")
    assert anonymous["data"]["posts"]["edges"][0]["node"]["coverImage"]["url"].startswith("/media/")
    body = await graphql(client, UPDATE, {"id": post["id"], "input": {"coverImageId": None}},
                         ada_headers)  # fmt: skip
    assert body["data"]["updatePost"]["coverImage"] is None


async def test_someone_elses_image_as_cover_is_not_found(client, db, settings, ada_headers):
    bob = await create_user(db, username="bob")
    bob_headers = await auth_headers(db, settings, bob)
    bobs_image = await uploaded(client, db, settings, bob_headers)
    body = await graphql(client, CREATE, {"input": {
        "title": "Mine", "content": "x", "coverImageId": bobs_image}}, ada_headers)  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await graphql(client, "mutation($id: ID!) { deleteImage(id: $id) }",
                         {"id": bobs_image}, ada_headers)  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await graphql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": bobs_image},
                         ada_headers)  # fmt: skip
    assert body["data"]["node"] is None


async def test_an_avatar_is_set_shown_and_someone_elses_refused(
    client, db, settings, ada, ada_headers
):
    image_id = await uploaded(client, db, settings, ada_headers)
    mutation = "mutation($id: ID) { updateMe(input: {avatarImageId: $id}) { avatar { id } } }"
    body = await graphql(client, mutation, {"id": image_id}, ada_headers)
    assert body["data"]["updateMe"]["avatar"]["id"] == image_id
    shown = await graphql(
        client, '{ user(username: "ada") { avatar { status variants { name } } } }'
    )
    assert shown["data"]["user"]["avatar"]["status"] == "READY"
    bob = await create_user(db, username="bob")
    body = await graphql(client, mutation, {"id": image_id}, await auth_headers(db, settings, bob))
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await graphql(client, mutation, {"id": None}, ada_headers)
    assert body["data"]["updateMe"]["avatar"] is None


async def test_update_me_with_a_refused_avatar_changes_nothing(
    client, db, settings, ada, ada_headers
):
    image_id = await uploaded(client, db, settings, ada_headers)
    mutation = """mutation($name: String, $id: ID) {
      updateMe(input: {fullName: $name, avatarImageId: $id}) { fullName avatar { id } } }"""
    body = await graphql(client, mutation, {"name": "Ada L.", "id": image_id}, ada_headers)
    assert body["data"]["updateMe"] == {"fullName": "Ada L.", "avatar": {"id": image_id}}
    bob = await create_user(db, username="bob")
    bobs_image = await uploaded(client, db, settings, await auth_headers(db, settings, bob))
    body = await graphql(client, mutation, {"name": "Changed", "id": bobs_image}, ada_headers)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    shown = await graphql(client, '{ user(username: "ada") { fullName avatar { id } } }')
    assert shown["data"]["user"] == {"fullName": "Ada L.", "avatar": {"id": image_id}}


async def test_deleting_an_image_removes_every_file_and_its_uses(client, db, settings, ada_headers):
    image_id = await uploaded(client, db, settings, ada_headers)
    await graphql(client, CREATE, {"input": {"title": "T", "content": "x", "published": True,
                                             "coverImageId": image_id}}, ada_headers)  # fmt: skip
    assert any(path.suffix == ".webp" for path in stored_files(settings))
    body = await graphql(client, "mutation($id: ID!) { deleteImage(id: $id) }", {"id": image_id},
                         ada_headers)  # fmt: skip
    assert body["data"]["deleteImage"] is True
    assert stored_files(settings) == []
    feed = await graphql(client, "{ posts { edges { node { coverImage { id } } } } }")
    assert feed["data"]["posts"]["edges"][0]["node"]["coverImage"] is None


async def test_processing_twice_changes_nothing(client, db, settings, ada_headers):
    image_id = await uploaded(client, db, settings, ada_headers)
    files = stored_files(settings)
    assert (
        await process_image(db, storage_for(settings), settings, parse_id(image_id)[1]) == "READY"
    )
    assert stored_files(settings) == files


async def test_covers_add_one_statement_to_the_feed_not_one_per_post(
    client, db, settings, ada, ada_headers, sql_log
):
    image_id = await uploaded(client, db, settings, ada_headers)
    for n in range(10):
        post = await create_post(db, author=ada, title=f"Post {n}")
        await graphql(client, UPDATE, {"id": _post_id(post), "input": {"coverImageId": image_id}},
                      ada_headers)  # fmt: skip
    feed = "{ posts(first: 10) { edges { node { title coverImage { url variants { url } } } } } }"
    sql_log.clear()
    body = await graphql(client, feed, None, {"Cache-Control": "no-cache"})
    with_covers = len(sql_log.statements())
    assert all(edge["node"]["coverImage"]["url"] for edge in body["data"]["posts"]["edges"])
    sql_log.clear()
    await graphql(client, "{ posts(first: 10) { edges { node { title } } } }")
    without = len(sql_log.statements())
    assert with_covers <= without + 1


def _post_id(post) -> str:
    from blog_graphql.relay.ids import encode_id

    return encode_id("Post", post.id)


def test_markdown_keeps_uploaded_images_and_refuses_other_schemes():
    html = render_markdown("![A cat](/media/i/" + "a" * 32 + "/large.webp)")
    assert 'src="/media/i/' in html and 'alt="A cat"' in html
    assert "<img" not in render_markdown("![x](javascript:alert(1))")
    assert 'src="data:' not in render_markdown('<img src="data:image/png;base64,AAAA">')
    assert 'src="javascript' not in render_markdown('<img src="javascript:alert(1)">')
