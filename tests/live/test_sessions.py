"""Sockets end with their session: token expiry (4401); logout, password change and
deactivation through the real mutations (4403); each socket holding a real `commentAdded`."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from blog_graphql.accounts.tokens import decode_token
from blog_graphql.live import closecodes
from blog_graphql.live.sockets import LiveSockets
from blog_graphql.relay.ids import encode_id
from tests.conftest import TEST_DATABASE_URL, requires_postgres
from tests.factories import DEFAULT_PASSWORD, auth_headers, create_post, create_user
from tests.live.accounts import revoke_sessions, short_lived_authorization
from tests.live.clients import PROTOCOLS, graphql_socket
from tests.live.comments import add_comment, watch_post
from tests.live.conftest import graphql_over_http
from tests.tcp_proxy import tcp_proxy


async def watch_comments(socket, server, token: str, post) -> None:
    """Sign the socket in and watch the post's comments, as a reader of it does."""
    assert (await socket.init({"Authorization": token}))["type"] == "connection_ack"
    await watch_post(socket, server, post)


@pytest.fixture
async def post(db):
    return await create_post(db, author=await create_user(db))


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_expired_access_token_closes_the_socket_with_4401(
    serve, db, settings, post, protocol
):
    ada = await create_user(db)
    with serve() as server:
        token = await short_lived_authorization(db, settings, ada, seconds=3)
        async with graphql_socket(server.ws_url, protocol) as socket:
            await watch_comments(socket, server, token, post)
            assert await socket.close_code() == 4401


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_logout_closes_that_sessions_sockets_with_4403_and_no_other(
    serve, db, settings, post, protocol
):
    ada, bob = await create_user(db), await create_user(db)
    ada_token = (await auth_headers(db, settings, ada))["Authorization"]
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as ada_socket,
            graphql_socket(server.ws_url, protocol) as bob_socket,
        ):
            await watch_comments(ada_socket, server, ada_token, post)
            await watch_comments(bob_socket, server, bob_token, post)
            graphql_over_http(server, "mutation { logout }", ada_token)
            assert await ada_socket.close_code() == 4403
            comment_id = add_comment(server, bob_token, post, "still here")
            assert (await bob_socket.next_data("1"))["commentAdded"]["id"] == comment_id


CHANGE_PASSWORD = (
    "mutation($old: String!, $new: String!) "
    "{ changePassword(currentPassword: $old, newPassword: $new) }"
)
DEACTIVATE = "mutation($id: ID!) { setUserActive(id: $id, active: false) { isActive } }"


async def close_code_after(
    server, post, token: str, mutation: str, by: str, **variables
) -> int | None:
    """Watch as `token`'s viewer, run `mutation` as `by`; how the socket then closed."""
    async with graphql_socket(server.ws_url) as socket:
        await watch_comments(socket, server, token, post)
        graphql_over_http(server, mutation, by, **variables)
        return await socket.close_code()


async def test_a_password_change_closes_the_users_other_sessions_sockets(serve, db, settings, post):
    ada = await create_user(db)
    watching = (await auth_headers(db, settings, ada))["Authorization"]
    changing = (await auth_headers(db, settings, ada))["Authorization"]
    with serve() as server:
        code = await close_code_after(
            server,
            post,
            watching,
            CHANGE_PASSWORD,
            changing,
            old=DEFAULT_PASSWORD,
            new="Another123",
        )
    assert code == 4403


async def test_deactivating_a_user_closes_their_socket_with_4403(serve, db, settings, post):
    ada, admin = await create_user(db), await create_user(db, is_admin=True)
    token = (await auth_headers(db, settings, ada))["Authorization"]
    admin_token = (await auth_headers(db, settings, admin))["Authorization"]
    with serve() as server:
        code = await close_code_after(
            server, post, token, DEACTIVATE, admin_token, id=encode_id("User", ada.id)
        )
    assert code == 4403


async def test_one_statement_checks_every_session_of_the_instance(db, settings, sql_log):
    users = [await create_user(db) for _ in range(3)]
    sockets = LiveSockets(db, per_address=10, check_seconds=3600)
    closed: list[tuple[str, int]] = []
    opened = []
    for user in users:
        token = (await auth_headers(db, settings, user))["Authorization"].split()[1]
        socket = sockets.open("127.0.0.1", record_close(closed, user.username))
        assert socket is not None
        sockets.authenticated(socket, decode_token(settings, token, "access"))
        opened.append(socket)
    await revoke_sessions(db, users[1].id)
    sql_log.clear()

    await sockets.check_sessions()
    await asyncio.gather(*(s.closed for s in opened if s.closed is not None))

    assert len(sql_log.statements()) == 1
    assert closed == [(users[1].username, closecodes.SESSION_ENDED)]
    await sockets.close()


def record_close(closed, name):
    async def close(code: int, _reason: str) -> None:
        closed.append((name, code))

    return close


@requires_postgres
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_connection_init_while_the_database_is_down_closes_with_1013(
    serve, db, settings, protocol
):
    """Who the token belongs to cannot be asked: a defined close the client retries
    (1013, "try again later"), not a dropped connection; once back, sockets sign in."""
    assert TEST_DATABASE_URL
    token = (await auth_headers(db, settings, await create_user(db)))["Authorization"]
    target = urlsplit(TEST_DATABASE_URL)
    with (
        tcp_proxy(target.hostname or "", target.port or 5432) as database,
        serve(DATABASE_URL=database.url(TEST_DATABASE_URL)) as server,
    ):
        database.down()
        async with graphql_socket(server.ws_url, protocol) as socket:
            await socket.send({"type": "connection_init", "payload": {"Authorization": token}})
            assert await socket.close_code() == closecodes.UNAVAILABLE == 1013
        database.up()
        async with graphql_socket(server.ws_url, protocol) as socket:
            assert (await socket.init({"Authorization": token}))["type"] == "connection_ack"
