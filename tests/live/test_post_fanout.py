"""Post events across two real instances sharing Redis: what one instance commits reaches
the subscribers of the other, with the same visibility rules."""

from __future__ import annotations

import pytest

from tests.conftest import requires_redis
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import PROTOCOLS, graphql_socket
from tests.live.comments import UNPUBLISH_POST, add_comment, post_id, receive_ending
from tests.live.posts import (
    PUBLISH_POST,
    UPDATE_POST,
    mutate,
    next_event,
    watch_post_events,
    watch_publications,
)

pytestmark = requires_redis


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_post_events_and_publications_cross_instances(
    serve, redis_url, db, settings, protocol
):
    """A reader on a and the author on b watch a post; changes made on either instance
    reach both; the unpublication ends the reader's subscription and not the author's."""
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada, title="Shared")
    ada_token = (await auth_headers(db, settings, ada))["Authorization"]
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve(REDIS_URL=redis_url) as a, serve(REDIS_URL=redis_url) as b:
        async with (
            graphql_socket(a.ws_url, protocol) as reader,
            graphql_socket(b.ws_url, protocol) as author,
        ):
            await reader.init()
            await author.init({"Authorization": ada_token})
            for socket, server in ((reader, a), (author, b)):
                await watch_post_events(socket, server, post)
                await watch_publications(socket, server)
            mutate(b, UPDATE_POST, ada_token, id=post_id(post), title="Shared, edited")
            add_comment(a, bob_token, post, "from a")
            updated = [await next_event(socket) for socket in (reader, author)]
            counted = [await next_event(socket) for socket in (reader, author)]
            mutate(a, UNPUBLISH_POST, ada_token, id=post_id(post))
            reader_gone = (await next_event(reader), await receive_ending(reader, "1"))
            author_kept = await next_event(author)
            mutate(a, PUBLISH_POST, ada_token, id=post_id(post))
            author_heard = await author.next_data_of("1", "p")
            reader_heard = await reader.next_data("p")
    author_back = author_heard["1"]["postEvents"]
    published = [heard["postPublished"] for heard in (reader_heard, author_heard["p"])]
    edited = {"id": post_id(post), "title": "Shared, edited", "published": True}
    assert updated == [("UPDATED", {**edited, "commentCount": 0})] * 2
    assert counted == [("COMMENT_COUNT", {**edited, "commentCount": 1})] * 2
    assert reader_gone == (("UNPUBLISHED", None), ["NOT_FOUND"])
    assert author_kept == ("UNPUBLISHED", {**edited, "published": False, "commentCount": 1})
    assert author_back == {"kind": "UPDATED", "post": {**edited, "commentCount": 1}}
    assert [(p["id"], p["title"]) for p in published] == [(post_id(post), "Shared, edited")] * 2
