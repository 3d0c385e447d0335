"""Reactions on posts and comments: idempotent, one per user per kind, exact counts under
concurrency, visibility (NOT_FOUND), and bad kinds (GRAPHQL_VALIDATION_FAILED)."""

from __future__ import annotations

import asyncio
from typing import Any

from blog_graphql.relay.ids import encode_id
from tests.conftest import graphql
from tests.content.helpers import comment_id, error_code, post_id
from tests.factories import auth_headers, create_comment, create_post, create_user

REACT = (
    "mutation($id: ID!, $kind: ReactionKind!) "
    "{ react(subjectId: $id, kind: $kind) { kind count viewerHasReacted } }"
)
UNREACT = (
    "mutation($id: ID!, $kind: ReactionKind!) "
    "{ unreact(subjectId: $id, kind: $kind) { kind count viewerHasReacted } }"
)
POST_REACTIONS = """query($slug: String!) { post(slug: $slug) {
  reactions { kind count viewerHasReacted }
  comments(first: 5) { edges { node { content reactions { kind count viewerHasReacted } } } }
} }"""


def tally(like=(0, False), clap=(0, False), insightful=(0, False)):
    return [
        {"kind": kind, "count": count, "viewerHasReacted": mine}
        for kind, (count, mine) in (("LIKE", like), ("CLAP", clap), ("INSIGHTFUL", insightful))
    ]


async def test_reacting_twice_counts_once_and_every_kind_is_listed(call, db):
    author, reader = await create_user(db), await create_user(db)
    post = await create_post(db, author=author)

    first = await call(REACT, {"id": post_id(post), "kind": "LIKE"}, user=reader)
    again = await call(REACT, {"id": post_id(post), "kind": "LIKE"}, user=reader)
    clap = await call(REACT, {"id": post_id(post), "kind": "CLAP"}, user=author)

    assert first["data"]["react"] == tally(like=(1, True))
    assert again["data"]["react"] == tally(like=(1, True))
    assert clap["data"]["react"] == tally(like=(1, False), clap=(1, True))
    seen_by_reader = await call(POST_REACTIONS, {"slug": post.slug}, user=reader)
    seen_by_anyone = await call(POST_REACTIONS, {"slug": post.slug})
    assert seen_by_reader["data"]["post"]["reactions"] == tally(like=(1, True), clap=(1, False))
    assert seen_by_anyone["data"]["post"]["reactions"] == tally(like=(1, False), clap=(1, False))


async def test_unreacting_takes_one_kind_back_and_twice_changes_nothing(call, db):
    author, reader = await create_user(db), await create_user(db)
    post = await create_post(db, author=author)
    for kind in ("LIKE", "INSIGHTFUL"):
        await call(REACT, {"id": post_id(post), "kind": kind}, user=reader)

    once = await call(UNREACT, {"id": post_id(post), "kind": "LIKE"}, user=reader)
    twice = await call(UNREACT, {"id": post_id(post), "kind": "LIKE"}, user=reader)

    assert once["data"]["unreact"] == tally(insightful=(1, True))
    assert twice["data"]["unreact"] == tally(insightful=(1, True))


async def test_comments_have_their_own_reactions(call, db):
    author, reader = await create_user(db), await create_user(db)
    post = await create_post(db, author=author)
    liked = await create_comment(db, post=post, author=author, content="liked")
    await create_comment(db, post=post, author=author, content="plain")

    body = await call(REACT, {"id": comment_id(liked), "kind": "INSIGHTFUL"}, user=reader)

    assert body["data"]["react"] == tally(insightful=(1, True))
    page = (await call(POST_REACTIONS, {"slug": post.slug}, user=reader))["data"]["post"]
    assert page["reactions"] == tally()
    by_content = {e["node"]["content"]: e["node"]["reactions"] for e in page["comments"]["edges"]}
    assert by_content == {"liked": tally(insightful=(1, True)), "plain": tally()}


async def test_reacting_to_what_the_viewer_may_not_see_is_not_found(call, db):
    author, reader = await create_user(db), await create_user(db)
    draft = await create_post(db, author=author, published=False)
    post = await create_post(db, author=author)
    waiting = await create_comment(db, post=post, author=author, approved=False)
    on_draft = await create_comment(db, post=draft, author=author)
    missing = encode_id("Post", 999_999)
    user_id = encode_id("User", reader.id)

    for subject in (post_id(draft), comment_id(waiting), comment_id(on_draft), missing, user_id):
        for mutation in (REACT, UNREACT):
            body = await call(mutation, {"id": subject, "kind": "LIKE"}, user=reader)
            assert error_code(body) == "NOT_FOUND", (subject, body)
    # The author sees their own draft and waiting comment: they may react to them.
    own = await call(REACT, {"id": post_id(draft), "kind": "LIKE"}, user=author)
    assert own["data"]["react"] == tally(like=(1, True))


async def test_an_unknown_kind_fails_validation(call, db):
    """Written in the document it is GRAPHQL_VALIDATION_FAILED; sent as a variable's
    value it is the project's rule for every bad variable value (Apollo's): BAD_USER_INPUT
    naming the variable. Either way nothing runs."""
    author = await create_user(db)
    post = await create_post(db, author=author)

    by_variable = await call(REACT, {"id": post_id(post), "kind": "LOVE"}, user=author)
    inline = await call(
        f'mutation {{ react(subjectId: "{post_id(post)}", kind: LOVE) {{ count }} }}', user=author
    )

    assert error_code(inline) == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(by_variable) == "BAD_USER_INPUT"
    assert set(by_variable["errors"][0]["extensions"]["fields"]) == {"kind"}
    assert "data" not in inline and "data" not in by_variable
    counts = await call(REACT, {"id": post_id(post), "kind": "LIKE"}, user=author)
    assert counts["data"]["react"] == tally(like=(1, True))  # nothing else was added


async def test_reacting_needs_a_signed_in_viewer_and_a_well_formed_id(call, db):
    author = await create_user(db)
    post = await create_post(db, author=author)

    anonymous = await call(REACT, {"id": post_id(post), "kind": "LIKE"})
    malformed = await call(REACT, {"id": "nope", "kind": "LIKE"}, user=author)

    assert error_code(anonymous) == "UNAUTHENTICATED"
    assert error_code(malformed) == "BAD_USER_INPUT"
    assert "subjectId" in malformed["errors"][0]["extensions"]["fields"]


async def test_fifty_concurrent_reactions_leave_exact_counts(client, db, settings):
    """50 readers react at once (each twice, the second a no-op), then 25 take it back at
    once: the counts are exactly 50, then 25."""
    author = await create_user(db)
    post = await create_post(db, author=author)
    comment = await create_comment(db, post=post, author=author)
    readers = [await create_user(db) for _ in range(50)]
    headers = [await auth_headers(db, settings, reader) for reader in readers]
    author_headers = await auth_headers(db, settings, author)

    async def each(query: str, subject: str, who: list[dict[str, str]]) -> list[dict[str, Any]]:
        variables = {"id": subject, "kind": "CLAP"}
        return list(await asyncio.gather(*(graphql(client, query, variables, h) for h in who)))

    for subject in (post_id(post), comment_id(comment)):
        bodies = await each(REACT, subject, headers + headers)
        assert all("errors" not in body for body in bodies), bodies
        counted = await graphql(client, REACT, {"id": subject, "kind": "CLAP"}, author_headers)
        assert counted["data"]["react"][1]["count"] == 51  # the 50 and the author
        await graphql(client, UNREACT, {"id": subject, "kind": "CLAP"}, author_headers)

        taken_back = await each(UNREACT, subject, headers[:25])
        assert all("errors" not in body for body in taken_back), taken_back
        final = await graphql(client, REACT, {"id": subject, "kind": "LIKE"}, headers[0])
        assert final["data"]["react"] == tally(like=(1, True), clap=(25, False))
