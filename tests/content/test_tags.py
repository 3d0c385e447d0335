"""Tags: created on first use, matched ignoring case, with a slug and a colour."""

import re

from sqlalchemy import func, select

from blog_graphql.posts.models import Tag
from blog_graphql.posts.tagging import PALETTE, tag_color
from tests.content.helpers import CREATE_POST
from tests.factories import create_post, create_tag, create_user

TAG_POSTS = """query($first: Int, $after: String) { tags { name slug color
  posts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { title } } } } }"""


async def test_a_tag_is_created_on_first_use_and_reused_ignoring_case(call, db):
    ada = await create_user(db)
    for names in (["GraphQL", "Python"], ["graphql", "PYTHON", "Rust"]):
        post = {"title": "T", "content": "c", "tags": names, "published": True}
        body = await call(CREATE_POST, {"input": post}, user=ada)
        assert "errors" not in body
    tags = (await call("{ tags { name slug color } }"))["data"]["tags"]
    assert [(tag["name"], tag["slug"]) for tag in tags] == [
        ("GraphQL", "graphql"),
        ("Python", "python"),
        ("Rust", "rust"),
    ]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", tag["color"]) for tag in tags)
    assert tags[2]["color"] == tag_color("rust") and tag_color("rust") in PALETTE


async def test_non_ascii_names_match_their_existing_tag(call, db):
    ada = await create_user(db)
    await create_post(db, author=ada, tags=["Über", "Ελληνικά"])
    await create_post(db, author=ada, tags=["Über", "Ελληνικά"])
    tags = (await call("{ tags { name slug } }"))["data"]["tags"]
    assert [tag["slug"] for tag in tags] == ["uber", "ellenika"]


async def test_names_with_the_same_slug_get_numbered_slugs(call, db):
    await create_post(db, author=await create_user(db), tags=["C++", "C#", "c"])
    tags = (await call("{ tags { name slug } }"))["data"]["tags"]
    assert sorted(tag["slug"] for tag in tags) == ["c", "c-2", "c-3"]


async def test_names_are_trimmed_and_duplicates_in_one_post_collapse(call, db):
    post = await create_post(db, author=await create_user(db), tags=["  Web   Dev ", "web dev"])
    body = await call("query($s: String!) { post(slug: $s) { tags { name slug } } }",
                      {"s": post.slug})  # fmt: skip
    assert body["data"]["post"]["tags"] == [{"name": "Web Dev", "slug": "web-dev"}]


async def test_tag_posts_pages_through_visible_posts_newest_first(call, db):
    ada = await create_user(db)
    titles = [(await create_post(db, author=ada, tags=["t"], title=f"P{n}")).title
              for n in range(3)]  # fmt: skip
    await create_post(db, author=ada, tags=["t"], published=False, title="Draft")
    await create_tag(db, name="Empty")

    first = (await call(TAG_POSTS, {"first": 2}))["data"]["tags"]
    empty, tagged = first
    assert empty["posts"]["totalCount"] == 0 and empty["posts"]["edges"] == []
    assert tagged["posts"]["totalCount"] == 3
    assert [e["node"]["title"] for e in tagged["posts"]["edges"]] == titles[::-1][:2]
    assert tagged["posts"]["pageInfo"]["hasNextPage"] is True

    cursor = tagged["posts"]["pageInfo"]["endCursor"]
    rest = (await call(TAG_POSTS, {"first": 2, "after": cursor}))["data"]["tags"][1]["posts"]
    assert [e["node"]["title"] for e in rest["edges"]] == [titles[0]]
    assert rest["pageInfo"]["hasNextPage"] is False

    as_author = (await call(TAG_POSTS, {"first": 10}, user=ada))["data"]["tags"][1]["posts"]
    assert as_author["totalCount"] == 4 and as_author["edges"][0]["node"]["title"] == "Draft"


async def test_tags_used_only_by_drafts_are_listed_to_their_author_and_admins_only(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    await create_post(db, author=ada, tags=["Public", "Shared"])
    await create_post(db, author=ada, tags=["Secret Plans", "Shared"], published=False)
    await create_tag(db, name="Unused")
    listed = {}
    for name, viewer in (("anonymous", None), ("bob", bob), ("ada", ada), ("admin", admin)):
        tags = (await call("{ tags { name } }", user=viewer))["data"]["tags"]
        listed[name] = [tag["name"] for tag in tags]
    everything = ["Public", "Secret Plans", "Shared", "Unused"]
    assert listed == {
        "anonymous": ["Public", "Shared", "Unused"],
        "bob": ["Public", "Shared", "Unused"],
        "ada": everything,
        "admin": everything,
    }
    async with db.session() as session:  # listing hid it; nothing was removed
        assert sorted(await session.scalars(select(Tag.name))) == everything


async def test_names_the_database_lowers_alike_share_one_tag_and_never_conflict(call, db):
    """PostgreSQL lowers `İstanbul` to `istanbul`, Python to `i̇stanbul`: whatever the
    database's unique index holds equal is one tag, and no spelling fails with CONFLICT."""
    ada = await create_user(db)
    titles = {"First": ["İstanbul"], "Second": ["istanbul"], "Both": ["İstanbul", "istanbul"]}
    for title, names in titles.items():
        post = {"title": title, "content": "c", "tags": names, "published": True}
        body = await call(CREATE_POST, {"input": post}, user=ada)
        assert "errors" not in body, body
    async with db.session() as session:
        rows = (await session.execute(select(Tag.name, Tag.slug).order_by(Tag.id))).all()
    equal = await lowered_alike(db, "İstanbul", "istanbul")
    # One tag where the index sees one name (PostgreSQL), two where it sees two (SQLite).
    assert [tuple(row) for row in rows] == (
        [("İstanbul", "istanbul")]
        if equal
        else [("İstanbul", "istanbul"), ("istanbul", "istanbul-2")]
    )


async def lowered_alike(db, first: str, second: str) -> bool:
    async with db.session() as session:
        return bool(await session.scalar(select(func.lower(first) == func.lower(second))))
