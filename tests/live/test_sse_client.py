"""GraphQL over SSE with the `graphql-sse` npm client (distinct connections mode), against
a real uvicorn: subscriptions, their endings, and queries and mutations too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blog_graphql.comments.events import post_channel
from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.comments import (
    ADD_COMMENT,
    COMMENT_ADDED,
    COMMENT_EVENTS,
    UNPUBLISH_POST,
    add_comment,
    call,
    data,
    listening,
    post_id,
)
from tests.live.conftest import graphql_over_http
from tests.live.test_js_client import NodeSubscriber
from tests.live_server import LiveServer

SSE_SCRIPT = Path(__file__).parent / "js" / "sse.mjs"
MANY = 100  # more results than a test waits for: the stream ends by the server's doing


async def sse_client(
    server: LiveServer, query: str, variables: dict[str, Any], authorization: str = "", count=MANY
) -> NodeSubscriber:
    url = f"{server.url}/graphql"
    return await NodeSubscriber.start(url, count, query, variables, authorization, SSE_SCRIPT)


async def token(db, settings, user) -> str:
    return (await auth_headers(db, settings, user))["Authorization"]


def codes(line: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in line["errors"]]


@pytest.fixture
async def people(db, settings):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    return {user.username: (user, await token(db, settings, user)) for user in (ada, bob)}


async def test_the_graphql_sse_client_receives_new_comments(serve, db, people):
    post = await create_post(db, author=people["ada"][0])
    bob = people["bob"][1]
    with serve() as server:
        client = await sse_client(server, COMMENT_ADDED, {"post": post_id(post)}, count=2)
        await listening(server, post_channel(post.id), 1)
        ids = [add_comment(server, bob, post, text) for text in ("one", "two")]
        lines = [await client.line() for _ in range(3)]
        assert await client.finish() == 0
        await listening(server, post_channel(post.id), 0)  # the client's unsubscribe ends it
    assert lines == [
        {"data": {"commentAdded": {"id": ids[0], "content": "one", "isApproved": True,
                                   "author": {"username": "bob"}}}},
        {"data": {"commentAdded": {"id": ids[1], "content": "two", "isApproved": True,
                                   "author": {"username": "bob"}}}},
        {"disposed": True},
    ]  # fmt: skip


async def test_a_draft_is_watched_by_its_author_with_the_authorization_header(serve, db, people):
    ada, ada_token = people["ada"]
    draft = await create_post(db, author=ada, published=False)
    with serve() as server:
        author = await sse_client(server, COMMENT_ADDED, {"post": post_id(draft)}, ada_token, 1)
        await listening(server, post_channel(draft.id), 1)
        add_comment(server, ada_token, draft, "draft note")
        heard = await author.line()
        other = await sse_client(server, COMMENT_ADDED, {"post": post_id(draft)}, people["bob"][1])
        refused = [await other.line(), await other.line()]
        assert await author.finish() == 0
        assert await other.finish() == 0
    assert heard["data"]["commentAdded"]["content"] == "draft note"
    assert codes(refused[0]) == ["NOT_FOUND"] and refused[1] == {"complete": True}


async def test_a_bad_token_gets_one_unauthenticated_error_and_the_stream_completes(serve, db):
    post = await create_post(db, author=await create_user(db))
    with serve() as server:
        client = await sse_client(server, COMMENT_ADDED, {"post": post_id(post)}, "Bearer forged")
        lines = [await client.line(), await client.line()]
        assert await client.finish() == 0
    assert lines == [
        {"errors": [{"message": "Invalid or expired token.",
                     "extensions": {"code": "UNAUTHENTICATED"}}]},
        {"complete": True},
    ]  # fmt: skip


async def test_logout_ends_that_sessions_streams_and_no_other(serve, db, people):
    post = await create_post(db, author=people["ada"][0])
    ada, bob = people["ada"][1], people["bob"][1]
    variables = {"post": post_id(post)}
    with serve() as server:
        ada_client = await sse_client(server, COMMENT_ADDED, variables, ada)
        bob_client = await sse_client(server, COMMENT_ADDED, variables, bob, count=1)
        await listening(server, post_channel(post.id), 2)
        graphql_over_http(server, "mutation { logout }", ada)
        ending = [await ada_client.line(), await ada_client.line()]
        await listening(server, post_channel(post.id), 1)
        comment_id = add_comment(server, bob, post, "still here")
        heard = await bob_client.line()
        assert await ada_client.finish() == 0
        assert await bob_client.finish() == 0
    assert codes(ending[0]) == ["UNAUTHENTICATED"] and ending[1] == {"complete": True}
    assert heard["data"]["commentAdded"]["id"] == comment_id


async def test_comment_events_end_with_not_found_when_the_post_is_unpublished(serve, db, people):
    ada, ada_token = people["ada"]
    post = await create_post(db, author=ada)
    with serve() as server:
        client = await sse_client(server, COMMENT_EVENTS, {"post": post_id(post)})
        await listening(server, post_channel(post.id), 1)
        add_comment(server, people["bob"][1], post, "before")
        added = await client.line()
        data(call(server, UNPUBLISH_POST, ada_token, id=post_id(post)))
        ending = [await client.line(), await client.line()]
        assert await client.finish() == 0
    assert added["data"]["commentEvents"]["kind"] == "ADDED"
    assert codes(ending[0]) == ["NOT_FOUND"] and "data" not in ending[0]
    assert ending[1] == {"complete": True}


async def test_a_query_and_a_mutation_each_send_one_result_then_complete(serve, db, people):
    post = await create_post(db, author=people["ada"][0])
    with serve() as server:
        query = await sse_client(server, "{ posts { totalCount } }", {})
        answered = [await query.line(), await query.line()]
        variables = {"post": post_id(post), "content": "over SSE"}
        mutation = await sse_client(server, ADD_COMMENT, variables, people["bob"][1])
        added = [await mutation.line(), await mutation.line()]
        assert await query.finish() == 0 and await mutation.finish() == 0
        comments = data(call(server, "{ posts { edges { node { commentCount } } } }"))
    assert answered == [{"data": {"posts": {"totalCount": 1}}}, {"complete": True}]
    assert "id" in added[0]["data"]["addComment"] and added[1] == {"complete": True}
    assert comments["posts"]["edges"][0]["node"]["commentCount"] == 1


@requires_redis
async def test_a_comment_written_on_one_instance_reaches_sse_subscribers_on_another(
    serve, redis_url, db, people
):
    post = await create_post(db, author=people["ada"][0])
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        client = await sse_client(b, COMMENT_ADDED, {"post": post_id(post)}, count=1)
        await listening(b, post_channel(post.id), 1)
        comment_id = add_comment(a, people["bob"][1], post, "written on a")
        heard = await client.line()
        assert await client.finish() == 0
    assert heard["data"]["commentAdded"]["id"] == comment_id
