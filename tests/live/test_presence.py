"""`threadPresence` and `setTyping` on one real server without Redis (presence in memory),
through real WebSocket clients; across instances in test_presence_fanout."""

from __future__ import annotations

import pytest

from blog_graphql.live import closecodes
from tests.conftest import graphql
from tests.factories import auth_headers, create_post, create_user
from tests.live.accounts import revoke_sessions
from tests.live.clients import LEGACY_WS, PROTOCOLS, graphql_socket
from tests.live.comments import UNPUBLISH_POST, call, data, post_id, receive_ending
from tests.live.presence import (
    SET_TYPING,
    THREAD_PRESENCE,
    presence_until,
    set_typing,
    watch_presence,
)


async def token_of(db, settings, user) -> str:
    return (await auth_headers(db, settings, user))["Authorization"]


async def test_a_user_counts_once_however_many_sockets_and_each_anonymous_socket_once(
    serve, db, settings
):
    ada = await create_user(db, username="ada")
    post = await create_post(db, author=ada)
    token = await token_of(db, settings, ada)
    with serve() as server:
        async with (
            graphql_socket(server.ws_url) as tab1,
            graphql_socket(server.ws_url) as tab2,
            graphql_socket(server.ws_url, LEGACY_WS) as anonymous1,
            graphql_socket(server.ws_url) as anonymous2,
        ):
            await tab1.init({"Authorization": token})
            await tab2.init({"Authorization": token})
            await anonymous1.init()
            await anonymous2.init()
            firsts = [await watch_presence(socket, post) for socket in (tab1, tab2, anonymous1)]
            firsts.append(await watch_presence(anonymous2, post))
            heard_by_the_first = await presence_until(tab1, (3, []))
            await anonymous2.ws.close()
            after_a_socket_closed = await presence_until(tab1, (2, []))
            await anonymous1.send({"id": "p", "type": "complete"})
            after_an_unsubscribe = await presence_until(tab1, (1, []))
    assert firsts == [(1, []), (1, []), (2, []), (3, [])]
    assert all(state in [(2, []), (3, [])] for state in heard_by_the_first)
    assert after_a_socket_closed == [(2, [])]
    assert after_an_unsubscribe == [(1, [])]


async def test_typing_shows_at_once_stops_at_once_and_lapses_by_itself(serve, db, settings):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = await token_of(db, settings, bob)
    with serve(PRESENCE_TYPING_SECONDS="1") as server:
        async with graphql_socket(server.ws_url) as watcher:
            await watcher.init()
            assert await watch_presence(watcher, post) == (1, [])
            assert data(set_typing(server, bob_token, post)) == {"setTyping": True}
            started = await presence_until(watcher, (1, ["bob"]))
            data(set_typing(server, bob_token, post, typing=False))
            stopped = await presence_until(watcher, (1, []))
            data(set_typing(server, bob_token, post))
            again = await presence_until(watcher, (1, ["bob"]))
            lapsed = await presence_until(watcher, (1, []))  # nothing else happens meanwhile
    assert (started, stopped, again, lapsed) == (
        [(1, ["bob"])],
        [(1, [])],
        [(1, ["bob"])],
        [(1, [])],
    )


async def test_typers_are_listed_by_id_and_a_renewal_pushes_nothing(serve, db, settings):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    tokens = [await token_of(db, settings, user) for user in (bob, ada)]
    with serve() as server:
        async with graphql_socket(server.ws_url) as watcher:
            await watcher.init()
            await watch_presence(watcher, post)
            for token in tokens:
                data(set_typing(server, token, post))
            both = await presence_until(watcher, lambda state: len(state[1]) == 2)
            data(set_typing(server, tokens[0], post))  # bob renews: no change to push
            data(set_typing(server, tokens[1], post, typing=False))
            after = await presence_until(watcher, lambda state: len(state[1]) < 2)
    assert both[-1] == (1, ["ada", "bob"])
    assert after == [(1, ["bob"])]


async def test_set_typing_needs_a_signed_in_user_and_a_post_they_may_see(client, db, settings):
    ada, bob = await create_user(db), await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    public = await create_post(db, author=ada)
    bob_headers = await auth_headers(db, settings, bob)
    ada_headers = await auth_headers(db, settings, ada)

    async def codes(post, headers=None):
        body = await graphql(
            client, SET_TYPING, {"post": post_id(post), "typing": True}, headers=headers
        )
        return [error["extensions"]["code"] for error in body.get("errors", [])]

    assert await codes(public) == ["UNAUTHENTICATED"]
    assert await codes(draft, bob_headers) == ["NOT_FOUND"]
    assert await codes(draft, ada_headers) == []  # the author sees the draft
    assert await codes(public, bob_headers) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_watching_a_post_the_viewer_may_not_see_is_not_found(serve, db, settings, protocol):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    with serve() as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            await socket.init()
            await socket.subscribe("p", THREAD_PRESENCE, post=post_id(draft))
            assert await receive_ending(socket, "p") == ["NOT_FOUND"]


async def test_unpublishing_ends_other_watchers_with_not_found_and_the_author_sees_them_go(
    serve, db, settings
):
    ada = await create_user(db, username="ada")
    post = await create_post(db, author=ada)
    ada_token = await token_of(db, settings, ada)
    with serve() as server:
        async with graphql_socket(server.ws_url) as author, graphql_socket(server.ws_url) as other:
            await author.init({"Authorization": ada_token})
            await other.init()
            await watch_presence(author, post)
            await watch_presence(other, post)
            await presence_until(author, (2, []))
            data(call(server, UNPUBLISH_POST, ada_token, id=post_id(post)))
            ending = await receive_ending(other, "p")
            author_sees = await presence_until(author, (1, []))
    assert ending == ["NOT_FOUND"]
    assert author_sees == [(1, [])]


async def test_a_reader_whose_session_ends_leaves_with_the_socket(serve, db, settings):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = await token_of(db, settings, bob)
    with serve() as server:
        async with graphql_socket(server.ws_url) as bobs, graphql_socket(server.ws_url) as watcher:
            await bobs.init({"Authorization": bob_token})
            await watcher.init()
            await watch_presence(bobs, post)
            assert await watch_presence(watcher, post) == (2, [])
            await revoke_sessions(db, bob.id)
            code = await bobs.close_code()
            after = await presence_until(watcher, (1, []))
    assert code == closecodes.SESSION_ENDED
    assert after == [(1, [])]
