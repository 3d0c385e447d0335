"""Full-text search: ranked (titles first), web-search syntax, always data and never SQL."""

import pytest
from sqlalchemy import func, select

from blog_graphql.posts import service as posts_service
from blog_graphql.posts.models import Post, PostSearch
from blog_graphql.posts.search import fts5_query
from tests.content.helpers import error_fields
from tests.factories import create_post, create_user

SEARCH = """query($q: String, $tag: String, $first: Int) {
  posts(first: $first, filter: {search: $q, tag: $tag}) {
    totalCount edges { node { title } } } }"""
FILLER = "A quiet note about gardens, rivers and stones, written on a slow afternoon."


async def search(call, q, user=None, **variables):
    body = await call(SEARCH, {"q": q, **variables}, user=user)
    assert "errors" not in body, body
    posts = body["data"]["posts"]
    assert posts["totalCount"] == len(posts["edges"])
    return [edge["node"]["title"] for edge in posts["edges"]]


@pytest.fixture
async def library(db):
    ada = await create_user(db)
    posts = {
        "In the title": ("Python in practice", FILLER),
        "Often in the text": ("Notes", f"{FILLER} Python rocks, python shines, python wins."),
        "Once in the text": ("Remarks", f"{FILLER} Some python."),
        "Unrelated": ("Gardening", FILLER),
        "Running": ("Shoes", "Running every morning; the runner runs."),
    }
    for key, (title, content) in posts.items():
        await create_post(db, author=ada, title=title, content=content, tags=[key[:5]])
    return ada


async def test_title_matches_rank_first_then_by_how_often_the_text_matches(call, library):
    assert await search(call, "python") == ["Python in practice", "Notes", "Remarks"]


async def test_words_match_their_stems(call, library):
    assert await search(call, "run") == ["Shoes"]
    assert await search(call, "PYTHONS") == ["Python in practice", "Notes", "Remarks"]


async def test_web_search_syntax_phrases_or_and_exclusion(call, library):
    assert await search(call, '"python rocks"') == ["Notes"]
    assert await search(call, '"wins rocks"') == []
    assert set(await search(call, "shoes or practice")) == {"Shoes", "Python in practice"}
    assert await search(call, "python -practice -shines") == ["Remarks"]
    assert await search(call, "python practice") == ["Python in practice"]  # every word


async def test_search_combines_with_other_filters(call, library):
    assert await search(call, "python", tag="once ") == ["Remarks"]


@pytest.mark.parametrize(
    "q",
    ["'; DROP TABLE posts; --", '"unbalanced', "NEAR(python", "python*", "AND OR NOT",
     "title:python", "^python", "python)", "{python}", "-", '""', "\\", "%", "python' OR '1'='1",
     "posts_fts MATCH '*'"],
)  # fmt: skip
async def test_a_search_string_is_data_never_syntax(call, db, library, q):
    titles = await search(call, q)  # an answer, not an error
    assert set(titles) <= {"Python in practice", "Notes", "Remarks", "Gardening", "Shoes"}
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 5


async def test_a_blank_search_does_not_filter(call, library):
    assert len(await search(call, "   ")) == 5


async def test_a_search_longer_than_200_characters_is_bad_input(call, db):
    body = await call(SEARCH, {"q": "x" * 201})
    assert error_fields(body) == {"search": "Search for at most 200 characters."}


async def test_the_index_follows_edits_and_deletes(call, db, library):
    post = await create_post(db, author=library, title="Zeppelins", content="Airships.")
    assert await search(call, "airships") == ["Zeppelins"]
    changes = posts_service.PostChanges(content="Balloons.")
    await posts_service.update_post(db, library, post.id, changes)
    assert await search(call, "airships") == [] and await search(call, "balloon") == ["Zeppelins"]
    await posts_service.delete_post(db, library, post.id)
    assert await search(call, "balloon") == []


async def test_the_index_follows_publishing_for_each_viewer(call, db, library):
    post = await create_post(db, author=library, title="Dirigibles", published=False)
    assert await search(call, "dirigibles") == []
    assert await search(call, "dirigibles", user=library) == ["Dirigibles"]  # its author
    await posts_service.publish_post(db, library, post.id)
    assert await search(call, "dirigibles") == ["Dirigibles"]
    await posts_service.unpublish_post(db, library, post.id)
    assert await search(call, "dirigibles") == []
    assert await search(call, "dirigibles", user=library) == ["Dirigibles"]


async def test_search_reads_the_narrow_rows_the_triggers_keep(db, library):
    """The ranking scans `post_search`, which triggers keep one row per post, in step."""
    post = await create_post(db, author=library, title="Kites", published=False)
    await posts_service.publish_post(db, library, post.id)
    async with db.session() as session:
        rows = (await session.execute(select(PostSearch))).scalars().all()
        posts = (await session.execute(select(Post))).scalars().all()
    assert {row.id: (row.author_id, row.published, row.feed_at) for row in rows} == {
        each.id: (each.author_id, each.published, each.feed_at) for each in posts
    }
    await posts_service.delete_post(db, library, post.id)
    async with db.session() as session:
        assert await session.get(PostSearch, post.id) is None


def test_web_search_becomes_quoted_fts5_terms():
    assert fts5_query("python async") == '"python" AND "async" *'  # the last: a prefix
    assert fts5_query('"exact phrase" or other -not') == '"exact phrase" OR "other" NOT "not"'
    assert fts5_query('NEAR(x) "y') == '"NEAR x" AND "y" *'
    assert fts5_query("title:python") == '"title python" *'
    assert fts5_query("-alone") is None and fts5_query("!!! ???") is None


PAGED = """query($q: String, $after: String) {
  posts(first: 1, after: $after, filter: {search: $q}) {
    pageInfo { hasNextPage endCursor } edges { cursor node { title } } } }"""


async def test_search_results_page_by_rank_with_cursors(call, library):
    titles, after = [], None
    while True:
        posts = (await call(PAGED, {"q": "python", "after": after}))["data"]["posts"]
        titles += [edge["node"]["title"] for edge in posts["edges"]]
        assert posts["pageInfo"]["endCursor"] == posts["edges"][-1]["cursor"]
        if not posts["pageInfo"]["hasNextPage"]:
            break
        after = posts["pageInfo"]["endCursor"]
    assert titles == ["Python in practice", "Notes", "Remarks"]


async def test_a_search_of_nothing_searchable_finds_nothing(call, library):
    assert await search(call, "!!! ...") == []
