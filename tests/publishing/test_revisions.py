"""Revisions: kept on every edit of title or content, the last 50, for author and admins."""

from __future__ import annotations

from sqlalchemy import func, select

from blog_graphql.posts import revisions
from blog_graphql.posts import service as posts_service
from blog_graphql.posts.models import PostRevision
from blog_graphql.posts.service import PostChanges
from blog_graphql.relay.ids import encode_id
from tests.content.helpers import error_code, post_id
from tests.factories import create_post, create_user

UPDATE = (
    "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }"
)
REVISIONS = """query($slug: String!, $first: Int, $after: String) { post(slug: $slug) {
  revisions(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id title content createdAt editor { username } } } } } }"""
RESTORE = "mutation($id: ID!) { restorePostRevision(id: $id) { title content } }"
NODE = "query($id: ID!) { node(id: $id) { ... on PostRevision { title } } }"


async def edit(call, user, post, **fields):
    return await call(UPDATE, {"id": post_id(post), "input": fields}, user=user)


async def revision_page(call, user, post, **arguments):
    body = await call(REVISIONS, {"slug": post.slug, **arguments}, user=user)
    return body["data"]["post"]["revisions"]


async def test_each_edit_of_title_or_content_keeps_the_previous_version(call, db):
    ada = await create_user(db, username="ada")
    post = await create_post(db, author=ada, title="First", content="One")
    await edit(call, ada, post, title="Second")
    await edit(call, ada, post, content="Two")
    await edit(call, ada, post, tags=["python"], excerpt="Only metadata")  # no revision

    page = await revision_page(call, ada, post)

    assert page["totalCount"] == 2
    nodes = [edge["node"] for edge in page["edges"]]
    assert [(node["title"], node["content"]) for node in nodes] == [
        ("Second", "One"),  # newest first: what the content edit replaced
        ("First", "One"),
    ]
    assert {node["editor"]["username"] for node in nodes} == {"ada"}


async def test_an_edit_that_changes_nothing_keeps_no_revision(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, title="Same", content="Same")
    await edit(call, ada, post, title="Same", content="Same")
    assert (await revision_page(call, ada, post))["totalCount"] == 0


async def test_only_the_last_fifty_are_kept_and_they_page(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, title="v0", content="body")
    for n in range(1, 53):
        await posts_service.update_post(db, ada, post.id, PostChanges(title=f"v{n}"))

    async with db.session() as session:
        kept = await session.scalar(select(func.count()).where(PostRevision.post_id == post.id))
    assert kept == revisions.KEPT_PER_POST
    first = await revision_page(call, ada, post, first=30)
    assert first["totalCount"] == 50 and first["pageInfo"]["hasNextPage"] is True
    rest = await revision_page(call, ada, post, first=30, after=first["pageInfo"]["endCursor"])
    titles = [edge["node"]["title"] for edge in first["edges"] + rest["edges"]]
    assert titles == [f"v{n}" for n in range(51, 1, -1)]  # v0 and v1 dropped


async def test_other_readers_see_no_revisions_and_admins_see_them(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada, title="Public", content="Old")
    await edit(call, ada, post, content="New")

    assert (await revision_page(call, bob, post))["totalCount"] == 0
    assert (await revision_page(call, None, post))["edges"] == []
    assert (await revision_page(call, admin, post))["totalCount"] == 1


async def test_restoring_brings_the_version_back_and_keeps_the_replaced_one(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, title="Draft one", content="Words one")
    await edit(call, ada, post, title="Draft two", content="Words two")
    [old] = (await revision_page(call, ada, post))["edges"]

    body = await call(RESTORE, {"id": old["node"]["id"]}, user=ada)

    assert body["data"]["restorePostRevision"] == {"title": "Draft one", "content": "Words one"}
    page = await revision_page(call, ada, post)
    assert [(e["node"]["title"], e["node"]["content"]) for e in page["edges"]] == [
        ("Draft two", "Words two"),
        ("Draft one", "Words one"),
    ]


async def test_a_revision_of_someone_elses_post_is_not_found(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada, title="Mine", content="Old")
    await edit(call, ada, post, content="New")
    [old] = (await revision_page(call, ada, post))["edges"]
    id_ = old["node"]["id"]

    assert error_code(await call(RESTORE, {"id": id_}, user=bob)) == "NOT_FOUND"
    assert error_code(await call(RESTORE, {"id": id_})) == "UNAUTHENTICATED"
    assert (await call(NODE, {"id": id_}, user=bob))["data"]["node"] is None
    assert (await call(NODE, {"id": id_}, user=ada))["data"]["node"] == {"title": "Mine"}
    restored = await call(RESTORE, {"id": id_}, user=admin)
    assert restored["data"]["restorePostRevision"]["content"] == "Old"


async def test_a_revision_id_that_does_not_exist_or_names_a_post_is_not_found(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    missing = encode_id("PostRevision", 999_999)
    assert error_code(await call(RESTORE, {"id": missing}, user=ada)) == "NOT_FOUND"
    assert error_code(await call(RESTORE, {"id": post_id(post)}, user=ada)) == "NOT_FOUND"


async def test_a_malformed_revisions_cursor_is_bad_user_input(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    body = await call(REVISIONS, {"slug": post.slug, "after": "nope"}, user=ada)
    assert error_code(body) == "BAD_USER_INPUT"
    body = await call(REVISIONS, {"slug": post.slug, "first": 101}, user=ada)
    assert error_code(body) == "BAD_USER_INPUT"
