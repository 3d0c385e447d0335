"""Writing posts: create, update, publish, unpublish, delete, slugs, excerpts and limits."""

import asyncio
import re

import pytest
from sqlalchemy import func, select

from blog_graphql.comments.models import Comment
from blog_graphql.guards.control_characters import NO_CONTROL, NO_CONTROL_BUT_LINES
from blog_graphql.posts import service as posts_service
from blog_graphql.posts.models import Post, PostTag, Tag
from blog_graphql.relay.ids import encode_id
from tests.content.helpers import (
    CREATE_POST,
    DELETE_POST,
    PERSON,
    PUBLISH_POST,
    UNPUBLISH_POST,
    UPDATE_POST,
    error_code,
    error_fields,
    post_id,
    users_as_shown,
)
from tests.factories import create_comment, create_post, create_tag, create_user


async def create(call, user, **fields):
    body = await call(CREATE_POST, {"input": {"content": "Body", **fields}}, user=user)
    return body


async def test_create_post_makes_a_draft_with_slug_html_excerpt_and_tags(call, db):
    ada = await create_user(db)
    body = await create(
        call, ada, title="Hello, World!", content="# Hi\n\nSome **bold** text.", tags=["Python"]
    )
    post = body["data"]["createPost"]
    assert re.fullmatch(r"draft-[0-9a-f]{24}", post["slug"])  # its public slug comes later
    assert post["published"] is False and post["publishedAt"] is None
    assert post["content"] == "# Hi\n\nSome **bold** text."
    assert post["contentHtml"] == "<h1>Hi</h1>\n<p>Some <strong>bold</strong> text.</p>\n"
    assert post["excerpt"] == "Hi Some bold text."
    assert [tag["name"] for tag in post["tags"]] == ["Python"]


async def test_create_post_published_sets_published_at(call, db):
    body = await create(call, await create_user(db), title="Out now", published=True)
    assert body["data"]["createPost"]["published"] is True
    assert body["data"]["createPost"]["publishedAt"] is not None


async def test_slugs_are_transliterated_and_made_unique_with_a_number(call, db):
    ada = await create_user(db)
    slugs = [
        (await create(call, ada, title=title, published=True))["data"]["createPost"]["slug"]
        for title in ["Crème Brûlée", "Crème brûlée", "CREME BRULEE!", "日本語", "🎉🎉🎉"]
    ]
    assert slugs == ["creme-brulee", "creme-brulee-2", "creme-brulee-3", "ri-ben-yu", "post"]


async def test_the_excerpt_defaults_to_about_300_characters_of_plain_text(call, db):
    words = " ".join(f"word{n}" for n in range(200))
    body = await create(call, await create_user(db), title="Long", content=f"*{words}*")
    excerpt = body["data"]["createPost"]["excerpt"]
    assert excerpt.startswith("word0 word1") and excerpt.endswith("…")
    assert 250 <= len(excerpt) <= 301 and "<" not in excerpt


async def test_a_post_gets_its_public_slug_from_its_title_on_first_publication(call, db):
    ada = await create_user(db)
    post = (await create(call, ada, title="First title"))["data"]["createPost"]
    draft_slug = post["slug"]
    renamed = await call(UPDATE_POST, {"id": post["id"], "input": {"title": "Second"}}, user=ada)
    assert renamed["data"]["updatePost"]["slug"] == draft_slug

    published = await call(PUBLISH_POST, {"id": post["id"]}, user=ada)
    assert published["data"]["publishPost"]["slug"] == "second"
    after = await call(UPDATE_POST, {"id": post["id"], "input": {"title": "Third"}}, user=ada)
    assert after["data"]["updatePost"]["title"] == "Third"
    assert after["data"]["updatePost"]["slug"] == "second"

    await call(UNPUBLISH_POST, {"id": post["id"]}, user=ada)
    again = await call(UPDATE_POST, {"id": post["id"], "input": {"title": "Fourth"}}, user=ada)
    assert again["data"]["updatePost"]["slug"] == "second"  # published once: stable for good
    await call(PUBLISH_POST, {"id": post["id"]}, user=ada)
    assert (await call(LOOKUP, {"s": "second"}))["data"]["post"]["title"] == "Fourth"


LOOKUP = "query($s: String!) { post(slug: $s) { title } }"


async def test_a_draft_reserves_no_public_slug_so_its_title_cannot_be_confirmed(call, db):
    """An outsider publishing a draft's title gets the plain slug, as if there were none."""
    ada, eve = await create_user(db), await create_user(db)
    draft = (await create(call, ada, title="Secret Draft Zebra"))["data"]["createPost"]
    probe = (await create(call, eve, title="Secret draft zebra", published=True))["data"]
    assert probe["createPost"]["slug"] == "secret-draft-zebra"
    assert (await call(LOOKUP, {"s": draft["slug"]}))["data"] == {"post": None}  # to others
    assert (await call(LOOKUP, {"s": draft["slug"]}, user=ada))["data"]["post"] == {
        "title": "Secret Draft Zebra"
    }
    # Published later, the draft takes the next free slug; nothing else changed.
    published = await call(PUBLISH_POST, {"id": draft["id"]}, user=ada)
    assert published["data"]["publishPost"]["slug"] == "secret-draft-zebra-2"
    async with db.session() as session:
        assert sorted(await session.scalars(select(Post.slug))) == [
            "secret-draft-zebra",
            "secret-draft-zebra-2",
        ]


async def test_update_post_rerenders_content_and_keeps_a_custom_excerpt(call, db):
    ada = await create_user(db)
    post = (await create(call, ada, title="T", content="old", excerpt="Mine"))["data"]
    post_global_id = post["createPost"]["id"]
    body = await call(UPDATE_POST, {"id": post_global_id, "input": {"content": "*new*"}}, user=ada)
    updated = body["data"]["updatePost"]
    assert updated["contentHtml"] == "<p><em>new</em></p>\n"
    assert updated["excerpt"] == "Mine"

    reset = await call(UPDATE_POST, {"id": post_global_id, "input": {"excerpt": None}}, user=ada)
    assert reset["data"]["updatePost"]["excerpt"] == "new"


async def test_an_automatic_excerpt_follows_new_content(call, db):
    ada = await create_user(db)
    post = (await create(call, ada, title="T", content="old words"))["data"]["createPost"]
    body = await call(UPDATE_POST, {"id": post["id"], "input": {"content": "new words"}}, user=ada)
    assert body["data"]["updatePost"]["excerpt"] == "new words"


async def test_update_post_replaces_tags_and_leaves_omitted_fields(call, db):
    ada = await create_user(db)
    post = (await create(call, ada, title="T", content="c", tags=["a", "b"]))["data"]
    post_global_id = post["createPost"]["id"]
    body = await call(UPDATE_POST, {"id": post_global_id, "input": {"tags": ["B", "c"]}}, user=ada)
    updated = body["data"]["updatePost"]
    assert [tag["name"] for tag in updated["tags"]] == ["b", "c"]
    assert (updated["title"], updated["content"]) == ("T", "c")
    cleared = await call(UPDATE_POST, {"id": post_global_id, "input": {"tags": []}}, user=ada)
    assert cleared["data"]["updatePost"]["tags"] == []


async def test_publish_and_unpublish_keep_the_first_publication_date(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, published=False)
    published = (await call(PUBLISH_POST, {"id": post_id(post)}, user=ada))["data"]
    first_date = published["publishPost"]["publishedAt"]
    assert published["publishPost"]["published"] is True and first_date

    unpublished = (await call(UNPUBLISH_POST, {"id": post_id(post)}, user=ada))["data"]
    assert unpublished["unpublishPost"]["published"] is False
    assert unpublished["unpublishPost"]["publishedAt"] is None

    again = (await call(PUBLISH_POST, {"id": post_id(post)}, user=ada))["data"]
    assert again["publishPost"]["publishedAt"] == first_date


async def test_delete_post_removes_it_with_its_comments_and_tag_links(call, db):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada, tags=["x"])
    await create_comment(db, post=post, author=bob)
    assert (await call(DELETE_POST, {"id": post_id(post)}, user=ada)) == {
        "data": {"deletePost": True}
    }
    async with db.session() as session:
        for column in (Post.id, Comment.post_id):
            assert await session.scalar(select(func.count()).where(column == post.id)) == 0
        assert await session.scalar(select(func.count()).select_from(PostTag)) == 0
    again = await call(DELETE_POST, {"id": post_id(post)}, user=ada)
    assert error_code(again) == "NOT_FOUND"


async def test_admins_may_change_and_delete_anyones_post(call, db):
    ada, admin = await create_user(db), await create_user(db, is_admin=True)
    post = await create_post(db, author=ada, published=False)
    body = await call(UPDATE_POST, {"id": post_id(post), "input": {"title": "Fixed"}}, user=admin)
    assert body["data"]["updatePost"]["title"] == "Fixed"
    assert (await call(DELETE_POST, {"id": post_id(post)}, user=admin))["data"]["deletePost"]


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        (CREATE_POST, {"input": {"title": "T", "content": "c"}}),
        (UPDATE_POST, {"input": {"title": "T"}}),
        (PUBLISH_POST, {}),
        (UNPUBLISH_POST, {}),
        (DELETE_POST, {}),
    ],
)
async def test_post_mutations_need_a_signed_in_user(call, db, operation, variables):
    post = await create_post(db, author=await create_user(db))
    body = await call(operation, {"id": post_id(post), **variables})
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


@pytest.mark.parametrize("operation", [UPDATE_POST, PUBLISH_POST, UNPUBLISH_POST, DELETE_POST])
async def test_a_visible_post_of_someone_else_is_forbidden(call, db, operation):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    body = await call(operation, {"id": post_id(post), "input": {"title": "Mine"}}, user=bob)
    assert error_code(body) == "FORBIDDEN"


@pytest.mark.parametrize("operation", [UPDATE_POST, PUBLISH_POST, UNPUBLISH_POST, DELETE_POST])
async def test_someone_elses_draft_is_not_found(call, db, operation):
    ada, bob = await create_user(db), await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    body = await call(operation, {"id": post_id(draft), "input": {"title": "Mine"}}, user=bob)
    assert error_code(body) == "NOT_FOUND"


async def test_an_id_of_another_type_is_not_found_and_a_malformed_one_bad_input(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=ada)
    other_type = await call(DELETE_POST, {"id": encode_id("Comment", comment.id)}, user=ada)
    assert error_code(other_type) == "NOT_FOUND"
    malformed = await call(DELETE_POST, {"id": "not an id"}, user=ada)
    assert error_fields(malformed) == {"id": "Malformed id."}
    missing = await call(PUBLISH_POST, {"id": encode_id("Post", 99999)}, user=ada)
    assert error_code(missing) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"content": "x" * 100_001}, "content"),
        ({"excerpt": "x" * 501}, "excerpt"),
        ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": ["!!!"]}, "tags"),
    ],
)
async def test_content_limits_are_bad_user_input_naming_the_field(call, db, fields, bad):
    ada = await create_user(db)
    body = await create(call, ada, **{"title": "T", **fields})
    assert list(error_fields(body)) == [bad]
    post = await create_post(db, author=ada)
    update = await call(UPDATE_POST, {"id": post_id(post), "input": fields}, user=ada)
    assert list(error_fields(update)) == [bad]


async def test_every_bad_field_is_reported_at_once(call, db):
    body = await create(call, await create_user(db), title="", content="x" * 100_001)
    assert set(error_fields(body)) == {"title", "content"}


async def test_the_limits_themselves_are_allowed(call, db):
    tags = [f"tag{n}" for n in range(10)] + ["TAG0"]  # the same tag twice counts once
    body = await create(call, await create_user(db), title="x" * 200, content="y" * 100_000,
                        tags=tags)  # fmt: skip
    assert len(body["data"]["createPost"]["tags"]) == 10


async def test_nul_characters_never_reach_the_database(call, db):
    ada = await create_user(db)
    body = await create(call, ada, title="a\x00b", content="c\x00", excerpt="\x00")
    assert error_fields(body) == {
        "title": NO_CONTROL,
        "content": NO_CONTROL_BUT_LINES,
        "excerpt": NO_CONTROL_BUT_LINES,
    }
    tagged = await create(call, ada, title="T", tags=["py\x00thon"])
    assert error_fields(tagged) == {"tags": NO_CONTROL}
    lookup = "query($s: String!) { post(slug: $s) { id } }"
    assert error_fields(await call(lookup, {"s": "t\x00"})) == {"slug": NO_CONTROL}
    feed = '{ posts(filter: {tag: "x\\u0000", author: "\\u0000"}) { totalCount } }'
    assert error_fields(await call(feed)) == {"tag": NO_CONTROL, "author": NO_CONTROL}
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0
        assert await session.scalar(select(func.count()).select_from(Tag)) == 0


async def test_concurrent_posts_with_one_title_and_new_tag_all_succeed(db):
    ada = await create_user(db)
    new = posts_service.NewPost(title="Same title", content="c", tags=["Fresh"], published=True)
    posts = await asyncio.gather(*(posts_service.create_post(db, ada, new) for _ in range(5)))
    assert sorted(post.slug for post in posts) == [
        "same-title", "same-title-2", "same-title-3", "same-title-4", "same-title-5",
    ]  # fmt: skip
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Tag)) == 1
        assert await session.scalar(select(func.count()).select_from(PostTag)) == 5


async def test_twenty_concurrent_create_posts_with_one_title_all_succeed(call, db):
    ada = await create_user(db)
    post = {"title": "Same title", "content": "c", "tags": ["Fresh"], "published": True}
    variables = {"input": post}
    bodies = await asyncio.gather(*(call(CREATE_POST, variables, user=ada) for _ in range(20)))
    assert [body.get("errors") for body in bodies] == [None] * 20
    slugs = {body["data"]["createPost"]["slug"] for body in bodies}
    assert len(slugs) == 20 and all(slug.startswith("same-title") for slug in slugs)
    async with db.session() as session:
        assert set(await session.scalars(select(Post.slug))) == slugs
        assert await session.scalar(select(func.count()).select_from(Tag)) == 1
        assert await session.scalar(select(func.count()).select_from(PostTag)) == 20
    assert (await call("{ posts { totalCount } }"))["data"] == {"posts": {"totalCount": 20}}


async def test_a_slug_that_stays_taken_through_every_retry_is_a_conflict(call, db, monkeypatch):
    ada = await create_user(db)
    await create_post(db, author=ada, title="Taken")

    async def always_taken(session, column, base, *, others=None):
        return "taken"  # as if a competitor took each fresh slug first, every time

    monkeypatch.setattr(posts_service, "unique_slug", always_taken)
    body = await create(call, ada, title="Another", published=True)
    assert error_code(body) == "CONFLICT"
    assert body["errors"][0]["extensions"]["fields"] == {
        "title": "Another post took this slug; try again."
    }
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 1


POST_AUTHOR = """query($s: String!) { post(slug: $s) { author { ...Person } } }""" + PERSON


async def test_the_author_of_a_post_by_slug_is_the_user_as_user_shows_them(call, db):
    # `post(slug:)` reads the author in the post's statement: the same user, inactive or
    # not, with the email only to themselves (a draft's reader) and admins.
    gone = await create_user(db, is_active=False, email_verified=False, full_name="Gone")
    writer, admin = await create_user(db, full_name="W"), await create_user(db, is_admin=True)
    cases = [
        (await create_post(db, author=gone), gone, viewer) for viewer in (None, writer, admin)
    ] + [(await create_post(db, author=writer, published=False), writer, writer)]
    for post, author, viewer in cases:
        shown = (await call(POST_AUTHOR, {"s": post.slug}, user=viewer))["data"]["post"]
        assert shown["author"] == (await users_as_shown(call, [author], viewer))[0]
        assert (shown["author"]["email"] is not None) is (viewer in (admin, author))
    assert shown["author"]["fullName"] == "W"


FEED_AUTHORS = (
    """query($search: String, $author: String) {
      posts(first: 50, filter: {search: $search, author: $author}) {
        edges { node { title author { ...Person } } } } }"""
    + PERSON
)


@pytest.mark.parametrize(
    "page", [{}, {"search": "lanterns"}, {"author": "Ada"}], ids=["feed", "search", "by-author"]
)
async def test_the_authors_of_a_feed_page_are_the_users_as_user_shows_them(call, db, page):
    # A feed or search page reads its authors in the page's statement (the author filter
    # looks the name up apart, uncorrelated with those joined authors).
    ada = await create_user(db, username="ada", full_name="Ada")
    gone = await create_user(db, is_active=False, full_name="Gone")
    admin = await create_user(db, is_admin=True)
    for author in (ada, gone, ada):
        await create_post(db, author=author, title="Paper lanterns", content="About lanterns.")
    for viewer in (None, ada, admin):
        edges = (await call(FEED_AUTHORS, page, user=viewer))["data"]["posts"]["edges"]
        expected = [ada, gone, ada][::-1] if "author" not in page else [ada, ada]
        shown = [edge["node"]["author"] for edge in edges]
        assert len(shown) == len(expected)
        assert sorted(shown, key=str) == sorted(
            await users_as_shown(call, expected, viewer), key=str
        )


COUNTS = """query($search: String) { posts(first: 50, filter: {search: $search}) {
  edges { node { slug commentCount } } } }"""
POST_COUNT = """query($s: String!) { post(slug: $s) { commentCount } }"""


@pytest.mark.parametrize("page", [{}, {"search": "lanterns"}], ids=["feed", "search"])
async def test_a_page_counts_the_comments_each_viewer_sees_as_the_loader_does(call, db, page):
    # Feed and search pages read each post's count in their statement; `post(slug:)` too.
    # Both must count what the comment-count loader counts: an unapproved comment only for
    # its author and admins, replies included.
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    quiet = await create_post(db, author=ada, title="Quiet lanterns", content="lanterns")
    busy = await create_post(db, author=ada, title="Busy lanterns", content="lanterns")
    top = await create_comment(db, post=busy, author=ada)
    await create_comment(db, post=busy, author=ada, parent=top)
    await create_comment(db, post=busy, author=bob, approved=False)
    expected = {None: 2, ada: 2, bob: 3, admin: 3}
    for viewer, busy_count in expected.items():
        edges = (await call(COUNTS, page, user=viewer))["data"]["posts"]["edges"]
        counts = {edge["node"]["slug"]: edge["node"]["commentCount"] for edge in edges}
        assert counts == {quiet.slug: 0, busy.slug: busy_count}
        shown = (await call(POST_COUNT, {"s": busy.slug}, user=viewer))["data"]["post"]
        assert shown["commentCount"] == busy_count


CARD_FIELDS = "slug commentCount tags { id name slug color } author { ...Person }"
# Every kind of page that lists posts, each reading its cards in its own statement.
CARD_PAGES = {
    "feed": f"""{{ posts(first: 50) {{ edges {{ node {{ {CARD_FIELDS} }} }} }} }}""",
    "search": f"""{{ posts(first: 50, filter: {{search: "lanterns"}}) {{
      edges {{ node {{ {CARD_FIELDS} }} }} }} }}""",
    "by-tag": f"""{{ posts(first: 50, filter: {{tag: "zinc"}}) {{
      edges {{ node {{ {CARD_FIELDS} }} }} }} }}""",
    "user's posts": f"""{{ user(username: "ada") {{ posts(first: 50) {{
      edges {{ node {{ {CARD_FIELDS} }} }} }} }} }}""",
    "tag's posts": f"""query($tag: ID!) {{ node(id: $tag) {{ ... on Tag {{ posts(first: 50) {{
      edges {{ node {{ {CARD_FIELDS} }} }} }} }} }} }}""",
}
CARD_PAGES = {name: query + PERSON for name, query in CARD_PAGES.items()}
POST_CARD = f"""query($s: String!) {{ post(slug: $s) {{ id {CARD_FIELDS} }} }}""" + PERSON
# `node(id:)` reads a post alone; its tags, count and author come through the loaders.
LOADED_CARD = (
    f"""query($id: ID!) {{ node(id: $id) {{ ... on Post {{ {CARD_FIELDS} }} }} }}""" + PERSON
)


def cards_of(data):
    """Every post card of a page's answer, by slug."""
    if isinstance(data, dict):
        if "commentCount" in data:
            return {data["slug"]: data}
        return {slug: card for value in data.values() for slug, card in cards_of(value).items()}
    if isinstance(data, list):
        return {slug: card for value in data for slug, card in cards_of(value).items()}
    return {}


@pytest.mark.parametrize("page", list(CARD_PAGES))
async def test_a_page_reads_each_posts_card_as_the_loaders_do(call, db, page):
    # Pages of posts read each post's tags (as JSON), comment count and author in their
    # own statement: the same tags, by name, with every character of their names kept,
    # the same count and the same author, for each viewer, as the loaders give.
    ada, bob = await create_user(db, username="ada", full_name="Ada"), await create_user(db)
    admin = await create_user(db, is_admin=True)
    # Made in an order that is not by name, so ids and names disagree.
    names = ["zinc", 'Quote "and" back\\slash', "äpfel ✓", "Alpha"]
    tags = [
        await create_tag(db, name=name, slug=f"t-{len(name)}", color="#0a0b0c") for name in names
    ]
    tag_of_page = {"tag": encode_id("Tag", tags[0].id)}  # zinc's, for the tag's own page
    bare = await create_post(db, author=ada, title="Bare lanterns", content="lanterns")
    full = await create_post(db, author=ada, title="Full lanterns", content="lanterns", tags=names)
    await create_comment(db, post=full, author=bob, approved=False)
    await create_comment(db, post=full, author=ada)
    for viewer in (None, bob, admin):
        expected = {}
        for post in (bare, full):
            shown = (await call(POST_CARD, {"s": post.slug}, user=viewer))["data"]["post"]
            loaded = await call(LOADED_CARD, {"id": shown.pop("id")}, user=viewer)
            expected[post.slug] = loaded["data"]["node"]
            assert shown == expected[post.slug]
        by_name = [tag["name"] for tag in expected[full.slug]["tags"]]
        assert sorted(by_name) == sorted(names) and by_name.index("Alpha") < by_name.index("zinc")
        assert expected[bare.slug]["tags"] == []
        assert expected[full.slug]["commentCount"] == (2 if viewer in (bob, admin) else 1)
        answer = await call(CARD_PAGES[page], tag_of_page, user=viewer)
        assert "errors" not in answer, answer
        cards = cards_of(answer["data"])
        tagged = page in ("by-tag", "tag's posts")
        assert cards == (expected if not tagged else {full.slug: expected[full.slug]})
