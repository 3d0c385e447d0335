"""Both WebSocket protocols on a real uvicorn: delivery, connection-time auth, timeouts."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.factories import auth_headers, create_user
from tests.live.accounts import revoke_sessions
from tests.live.clients import (
    LEGACY_WS,
    PROTOCOLS,
    VIEWER,
    graphql_socket,
    subscribe_echo,
    subscribe_no_wait,
)
from tests.live.conftest import publish


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_anonymous_subscriber_receives_events_in_process(serve, protocol):
    with serve() as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            assert (await socket.init())["type"] == "connection_ack"
            await subscribe_echo(socket, "1", "news")
            assert publish(server, "news", "hello", count=2) == 2
            assert await socket.next_data("1") == {"echo": "hello"}
            assert await socket.next_data("1") == {"echo": "hello"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_connection_init_token_picks_the_viewer(serve, db, settings, protocol):
    ada = await create_user(db, username="ada")
    token = (await auth_headers(db, settings, ada))["Authorization"]
    with serve() as server:
        for key in ("Authorization", "authorization", "AUTHORIZATION"):
            async with graphql_socket(server.ws_url, protocol) as socket:
                assert (await socket.init({key: token}))["type"] == "connection_ack"
                await socket.subscribe("1", VIEWER)
                assert await socket.next_data("1") == {"viewer": "ada"}, key


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_no_token_is_an_anonymous_viewer(serve, protocol):
    with serve() as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            assert (await socket.init({"other": "value"}))["type"] == "connection_ack"
            await socket.subscribe("1", VIEWER)
            assert await socket.next_data("1") == {"viewer": None}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_bad_token_closes_the_connection_with_4403(serve, db, settings, protocol):
    revoked, inactive = await create_user(db), await create_user(db, is_active=False)
    bad_values = [
        "Bearer not-a-jwt",
        "Basic abc",
        "Bearer ",
        42,
        (await auth_headers(db, settings, revoked))["Authorization"],
        (await auth_headers(db, settings, inactive))["Authorization"],
    ]
    await revoke_sessions(db, revoked.id)
    with serve() as server:
        for authorization in bad_values:
            async with graphql_socket(server.ws_url, protocol) as socket:
                await socket.send(
                    {"type": "connection_init", "payload": {"Authorization": authorization}}
                )
                if protocol == LEGACY_WS:  # the legacy protocol says why before closing
                    refused = await socket.receive()
                    assert refused["type"] == "connection_error"
                    assert refused["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
                assert await socket.close_code() == 4403, authorization


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_without_init_is_closed_after_the_wait(serve, protocol):
    with serve(WS_CONNECTION_INIT_TIMEOUT_SECONDS="0.5") as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            assert await socket.close_code() == 4408


async def test_subscribing_before_init_is_refused_with_4401(serve):
    with serve() as server:
        async with graphql_socket(server.ws_url) as socket:
            await subscribe_no_wait(socket)
            assert await socket.close_code() == 4401


async def test_development_accepts_sockets_from_loopback_pages_by_default(serve):
    with serve() as server:
        acknowledged = []
        for origin in ("http://localhost:5173", "https://127.0.0.1:8443", "http://[::1]:3000"):
            async with graphql_socket(server.ws_url, origin=origin) as socket:
                acknowledged.append((await socket.init())["type"])
        with pytest.raises(InvalidStatus) as refused:
            async with graphql_socket(server.ws_url, origin="http://localhost.evil.example:5173"):
                pass
    assert acknowledged == ["connection_ack"] * 3
    assert refused.value.response.status_code == 403


async def test_production_refuses_a_loopback_page_until_configured(serve):
    production = {"ENVIRONMENT": "production", "SECRET_KEY": "s" * 32}
    with serve(**production) as server, pytest.raises(InvalidStatus) as refused:
        async with graphql_socket(server.ws_url, origin="http://localhost:5173"):
            pass
    assert refused.value.response.status_code == 403


async def test_a_foreign_origin_is_refused_and_a_listed_one_accepted(serve):
    with serve(CORS_ORIGINS="https://blog.example") as server:
        with pytest.raises(InvalidStatus) as refused:
            async with graphql_socket(server.ws_url, origin="https://evil.example"):
                pass
        async with graphql_socket(server.ws_url, origin="https://blog.example") as socket:
            acknowledged = await socket.init()
    assert refused.value.response.status_code == 403
    assert acknowledged["type"] == "connection_ack"
