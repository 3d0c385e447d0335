"""Preview links: signed, stored (hashed), revocable, 7 days, read-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from blog_graphql.db.database import utcnow
from blog_graphql.posts.models import PreviewLink
from blog_graphql.posts.previews import token_hash
from tests.content.helpers import error_code, error_fields, post_id
from tests.factories import create_post, create_user

CREATE = "mutation($id: ID!) { createPreviewLink(postId: $id) { url token expiresAt } }"
REVOKE = "mutation($id: ID!) { revokePreviewLinks(postId: $id) }"
PREVIEW = """query($token: String!) { postPreview(token: $token) {
  id title content status author { username } } }"""


async def create_link(call, user, post) -> dict[str, str]:
    body = await call(CREATE, {"id": post_id(post)}, user=user)
    link: dict[str, str] = body["data"]["createPreviewLink"]
    return link


async def preview(call, token: str, user=None):
    body = await call(PREVIEW, {"token": token}, user=user)
    assert "errors" not in body, body
    return body["data"]["postPreview"]


async def test_a_preview_link_shows_the_draft_to_anyone_who_holds_it(call, db, settings):
    ada = await create_user(db, username="ada")
    draft = await create_post(db, author=ada, title="Secret", content="Soon", published=False)

    link = await create_link(call, ada, draft)

    assert link["url"] == f"{settings.public_url}/preview/{link['token']}"
    expires = datetime.fromisoformat(link["expiresAt"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    shown = await preview(call, link["token"])
    assert shown == {
        "id": post_id(draft), "title": "Secret", "content": "Soon", "status": "DRAFT",
        "author": {"username": "ada"},
    }  # fmt: skip
    async with db.session() as session:
        stored = await session.scalar(select(PreviewLink.token_hash))
    assert stored == token_hash(link["token"]) and link["token"] not in stored


async def test_revoked_links_show_nothing_and_the_count_is_returned(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    first, second = await create_link(call, ada, draft), await create_link(call, ada, draft)
    assert await preview(call, first["token"]) is not None  # asked once: not kept cached

    body = await call(REVOKE, {"id": post_id(draft)}, user=ada)

    assert body["data"]["revokePreviewLinks"] == 2
    assert await preview(call, first["token"]) is None
    assert await preview(call, second["token"]) is None
    again = await call(REVOKE, {"id": post_id(draft)}, user=ada)
    assert again["data"]["revokePreviewLinks"] == 0


async def test_an_expired_link_shows_nothing(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    link = await create_link(call, ada, draft)
    async with db.transaction() as session:
        await session.execute(
            update(PreviewLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await preview(call, link["token"]) is None


async def test_forged_and_mangled_tokens_show_nothing(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    link = await create_link(call, ada, draft)
    nonce, signature = link["token"].split(".")
    for token in (
        f"{nonce}.{'A' * len(signature)}",
        f"{'B' * len(nonce)}.{signature}",
        nonce,
        "",
        "x" * 5000,
        f"{link['token']}.extra",
    ):
        assert await preview(call, token) is None


async def test_a_scheduled_post_can_be_previewed(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await call(
        "mutation($id: ID!, $at: DateTime!) { schedulePost(id: $id, publishAt: $at) { id } }",
        {"id": post_id(draft), "at": at},
        user=ada,
    )
    link = await create_link(call, ada, draft)
    assert (await preview(call, link["token"]))["status"] == "SCHEDULED"


async def test_only_the_author_or_an_admin_makes_or_revokes_links(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    draft = await create_post(db, author=ada, published=False)
    for query in (CREATE, REVOKE):
        assert error_code(await call(query, {"id": post_id(draft)}, user=bob)) == "NOT_FOUND"
        assert error_code(await call(query, {"id": post_id(draft)})) == "UNAUTHENTICATED"
    link = await create_link(call, admin, draft)
    assert await preview(call, link["token"]) is not None


async def test_a_published_post_gets_no_preview_link(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, published=True)
    body = await call(CREATE, {"id": post_id(post)}, user=ada)
    assert set(error_fields(body)) == {"postId"}


async def test_a_preview_is_read_only(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    link = await create_link(call, ada, draft)
    body = await call(
        "mutation($token: String!) { postPreview(token: $token) { id } }",
        {"token": link["token"]},
    )
    assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"  # a query, not a mutation
