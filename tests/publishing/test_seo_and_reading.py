"""`seo` with its inputs and fallbacks, `readingTimeMinutes`, and the automatic excerpt."""

from __future__ import annotations

from tests.content.helpers import error_fields
from tests.factories import create_user

FIELDS = "id slug excerpt readingTimeMinutes seo { title description canonicalUrl }"
CREATE = f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {FIELDS} }} }}"
UPDATE = (
    f"mutation($id: ID!, $input: UpdatePostInput!) {{ updatePost(id: $id, input: $input) "
    f"{{ {FIELDS} }} }}"
)
PUBLISH = f"mutation($id: ID!) {{ publishPost(id: $id) {{ {FIELDS} }} }}"


async def create(call, user, **fields):
    body = await call(
        CREATE, {"input": {"title": "A title", "content": "Body", **fields}}, user=user
    )
    return body


async def test_seo_falls_back_to_title_excerpt_and_the_public_page(call, db, settings):
    ada = await create_user(db)
    draft = (await create(call, ada, content="The first words of it."))["data"]["createPost"]
    assert draft["excerpt"] == "The first words of it."  # derived from the content
    assert draft["seo"] == {
        "title": "A title", "description": "The first words of it.", "canonicalUrl": None,
    }  # fmt: skip

    published = (await call(PUBLISH, {"id": draft["id"]}, user=ada))["data"]["publishPost"]

    assert published["seo"]["canonicalUrl"] == f"{settings.public_url}/posts/a-title"


async def test_seo_inputs_are_stored_and_cleared_by_null(call, db):
    ada = await create_user(db)
    post = (
        await create(
            call, ada, seoTitle=" Best  title ", seoDescription="For engines",
            canonicalUrl="https://elsewhere.example/original",
        )
    )["data"]["createPost"]  # fmt: skip
    assert post["seo"] == {
        "title": "Best title", "description": "For engines",
        "canonicalUrl": "https://elsewhere.example/original",
    }  # fmt: skip

    kept = await call(UPDATE, {"id": post["id"], "input": {"title": "New"}}, user=ada)
    assert kept["data"]["updatePost"]["seo"]["title"] == "Best title"
    cleared = await call(
        UPDATE,
        {"id": post["id"], "input": {"seoTitle": None, "seoDescription": "", "canonicalUrl": None}},
        user=ada,
    )
    assert cleared["data"]["updatePost"]["seo"] == {
        "title": "New", "description": "Body", "canonicalUrl": None,
    }  # fmt: skip


async def test_bad_seo_inputs_are_bad_user_input_on_each_field(call, db):
    ada = await create_user(db)
    body = await create(
        call, ada, seoTitle="x" * 201, seoDescription="y" * 501, canonicalUrl="javascript:alert(1)"
    )
    assert set(error_fields(body)) == {"seoTitle", "seoDescription", "canonicalUrl"}
    for url in ("/relative/path", "ftp://files.example/x", "https://", "http://a b.example/"):
        body = await create(call, ada, canonicalUrl=url)
        assert set(error_fields(body)) == {"canonicalUrl"}, url
    post = (await create(call, ada))["data"]["createPost"]
    body = await call(UPDATE, {"id": post["id"], "input": {"canonicalUrl": "nope"}}, user=ada)
    assert set(error_fields(body)) == {"canonicalUrl"}


async def test_reading_time_is_words_over_230_at_least_one_and_follows_edits(call, db):
    ada = await create_user(db)
    short = (await create(call, ada, content="Just a few words."))["data"]["createPost"]
    assert short["readingTimeMinutes"] == 1
    long = (await create(call, ada, content="word " * 1000))["data"]["createPost"]
    assert long["readingTimeMinutes"] == 4  # 1000 / 230 = 4.3
    edited = await call(UPDATE, {"id": long["id"], "input": {"content": "word " * 600}}, user=ada)
    assert edited["data"]["updatePost"]["readingTimeMinutes"] == 3  # 2.6, rounded


async def test_the_feed_shows_reading_time_and_seo(call, db):
    ada = await create_user(db)
    await create(call, ada, content="word " * 500, published=True)
    body = await call(f"{{ posts {{ edges {{ node {{ {FIELDS} }} }} }} }}")
    [edge] = body["data"]["posts"]["edges"]
    assert edge["node"]["readingTimeMinutes"] == 2
    assert edge["node"]["seo"]["title"] == "A title"
