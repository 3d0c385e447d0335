"""REACTIONS post events on a real uvicorn: a change to a post's reactions reaches every
reader with the counts as each sees them; a no-op reaction and a comment's reactions send
nothing to the post's watchers."""

from __future__ import annotations

import pytest

from blog_graphql.posts.events import post_channel
from blog_graphql.relay.ids import encode_id
from tests.conftest import requires_redis
from tests.factories import auth_headers, create_comment, create_post, create_user
from tests.live.clients import PROTOCOLS, TRANSPORT_WS, graphql_socket
from tests.live.comments import listening, post_id
from tests.live.posts import mutate

POST_REACTION_EVENTS = (
    "subscription($post: ID!) { postEvents(postId: $post) "
    "{ kind post { id reactions { kind count viewerHasReacted } } } }"
)
REACT = "mutation($id: ID!, $kind: ReactionKind!) { react(subjectId: $id, kind: $kind) { count } }"
UNREACT = (
    "mutation($id: ID!, $kind: ReactionKind!) { unreact(subjectId: $id, kind: $kind) { count } }"
)


def likes(event) -> tuple[str, int, bool]:
    kind = event["postEvents"]["kind"]
    like = event["postEvents"]["post"]["reactions"][0]
    assert like["kind"] == "LIKE"
    return kind, like["count"], like["viewerHasReacted"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reactions_reach_every_reader_as_they_see_them(serve, db, settings, protocol):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as reader,
        ):
            await anonymous.init()
            await reader.init({"Authorization": bob_token})
            for count, socket in enumerate((anonymous, reader), start=1):
                await socket.subscribe("1", POST_REACTION_EVENTS, post=post_id(post))
                await listening(server, post_channel(post.id), count)

            mutate(server, REACT, bob_token, id=post_id(post), kind="LIKE")
            assert likes(await anonymous.next_data("1")) == ("REACTIONS", 1, False)
            assert likes(await reader.next_data("1")) == ("REACTIONS", 1, True)

            mutate(server, REACT, bob_token, id=post_id(post), kind="LIKE")  # no change
            mutate(server, REACT, bob_token, id=encode_id("Comment", comment.id), kind="LIKE")
            mutate(server, UNREACT, bob_token, id=post_id(post), kind="LIKE")
            assert likes(await anonymous.next_data("1")) == ("REACTIONS", 0, False)
            assert likes(await reader.next_data("1")) == ("REACTIONS", 0, False)


@requires_redis
async def test_a_reaction_on_one_instance_reaches_the_watchers_of_another(
    serve, redis_url, db, settings
):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with graphql_socket(b.ws_url, TRANSPORT_WS) as watcher:
            await watcher.init()
            await watcher.subscribe("1", POST_REACTION_EVENTS, post=post_id(post))
            await listening(b, post_channel(post.id), 1)
            mutate(a, REACT, bob_token, id=post_id(post), kind="LIKE")
            assert likes(await watcher.next_data("1")) == ("REACTIONS", 1, False)
