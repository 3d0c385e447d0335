"""The SQL statements each bench query runs (issue 8's targets), anonymous and signed in.

The counts are of statements the engine runs: reads run in autocommit, so no BEGIN or
ROLLBACK goes with them. With a token, one more statement checks the session.
"""

import pytest
from sqlalchemy import select

from blog_graphql.comments.models import Comment
from blog_graphql.reactions import service as reactions
from blog_graphql.reactions.kinds import Kind
from tests.conftest import graphql
from tests.factories import auth_headers
from tests.performance.world import bench_queries, build_world

# Q1: posts with their authors, tags and comment counts, then comments with their
# authors. Q2: the post with its author, tags and comment count, then per thread level one
# page of comments with their authors (authors read in the statement that reads what they
# wrote). Q3: posts with authors, tags, counts. Q4: tags. Q5: none. Q6: matching posts,
# with their authors.
TARGETS = {"q1": 2, "q2": 3, "q3": 1, "q4": 1, "q5": 0, "q6": 1}
AUTH_CHECK = 1


def test_every_bench_query_has_a_target():
    assert set(bench_queries()) == set(TARGETS)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_bench_queries_run_their_target_statements(client, db, settings, sql_log, signed_in):
    world = await build_world(db)
    headers = await auth_headers(db, settings, world.readers[1]) if signed_in else None
    counts = {}
    for name, query in bench_queries().items():
        sql_log.clear()
        body = await graphql(client, query, world.variables(), headers=headers)
        assert "errors" not in body, (name, body)
        assert body["data"], name
        counts[name] = len(sql_log.statements())
    print(f"statements (signed in: {signed_in}): {counts}")
    over = {
        name: count
        for name, count in counts.items()
        if count > TARGETS[name] + signed_in * AUTH_CHECK
    }
    assert not over, f"over target: {over} (targets {TARGETS}, +{AUTH_CHECK} signed in)"
    assert counts["q1"] > 0 and counts["q5"] == signed_in * AUTH_CHECK  # the log sees them


async def test_the_bench_queries_return_what_they_ask_for(client, db):
    world = await build_world(db)
    queries = bench_queries()

    feed = (await graphql(client, queries["q1"]))["data"]["posts"]["edges"]
    page = (await graphql(client, queries["q2"], world.variables()))["data"]["post"]
    tagged = (await graphql(client, queries["q3"], world.variables()))["data"]["posts"]["edges"]

    assert len(feed) == 20 and all(len(e["node"]["comments"]["edges"]) == 5 for e in feed)
    assert feed[0]["node"]["comments"]["edges"][0]["node"]["author"]["username"]
    threads = page["comments"]["edges"]
    assert any(thread["node"]["replies"]["edges"] for thread in threads)
    assert len(tagged) == 20 and all(edge["node"]["tags"] for edge in tagged)


# Q1 with reactions: one statement more for the posts' reactions, and one more for the
# comments' (one per level of the answer, however many posts and comments it holds).
FEED_WITH_REACTIONS = """query FeedWithReactions {
  posts(first: 20) { edges { node {
    title slug excerpt publishedAt
    author { username fullName }
    tags { name slug }
    commentCount
    reactions { kind count viewerHasReacted }
    comments(first: 5) { edges { node {
      content createdAt author { username }
      COMMENT_REACTIONS
    } } }
  } } }
}"""
REACTIONS_FIELD = "reactions { kind count viewerHasReacted }"


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_the_feed_with_reactions_runs_one_more_statement_per_level(
    client, db, settings, sql_log, signed_in
):
    world = await build_world(db)
    for n, post in enumerate(world.posts):
        for reader in world.readers[: n % 4]:
            await reactions.react(db, reader, reactions.Subject("Post", post.id), Kind.CLAP)
    async with db.session() as session:
        comment_ids = list(await session.scalars(select(Comment.id).limit(40)))
    for comment in comment_ids:
        await reactions.react(db, world.writer, reactions.Subject("Comment", comment), Kind.LIKE)
    viewer = world.readers[1]
    headers = await auth_headers(db, settings, viewer) if signed_in else None
    documents = {
        "feed": bench_queries()["q1"],
        "posts' reactions": FEED_WITH_REACTIONS.replace("COMMENT_REACTIONS", ""),
        "posts' and comments' reactions": FEED_WITH_REACTIONS.replace(
            "COMMENT_REACTIONS", REACTIONS_FIELD
        ),
    }
    counts = {}
    for name, query in documents.items():
        sql_log.clear()
        body = await graphql(client, query, headers=headers)
        assert "errors" not in body, (name, body)
        counts[name] = len(sql_log.statements())
    print(f"feed statements (signed in: {signed_in}): {counts}")
    base = TARGETS["q1"] + signed_in * AUTH_CHECK
    assert counts == {
        "feed": base,
        "posts' reactions": base + 1,
        "posts' and comments' reactions": base + 2,
    }
    edges = body["data"]["posts"]["edges"]
    claps = [edge["node"]["reactions"][1] for edge in edges]
    assert all(clap["kind"] == "CLAP" for clap in claps)
    assert sum(clap["count"] for clap in claps) == sum(n % 4 for n in range(len(world.posts)))
    assert any(clap["viewerHasReacted"] for clap in claps) is signed_in
    liked = [c["node"]["reactions"][0] for e in edges for c in e["node"]["comments"]["edges"]]
    assert liked and all(like["kind"] == "LIKE" for like in liked)
    assert any(like["count"] == 1 for like in liked)
