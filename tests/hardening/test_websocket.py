"""The same guards over WebSocket: codes, limits, budgets, message size and shape, origins."""

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from blog_graphql.http.websocket import with_codes
from tests.live_server import LiveServer, clean_environment, live_server

PROTOCOL = Subprotocol("graphql-transport-ws")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = clean_environment(
        RATE_LIMIT_CLIENT="1000/minute",
        RATE_LIMIT_FIELDS="tags=3/minute",
        CORS_ORIGINS="https://app.example",
    )
    with live_server(env=env, cwd=tmp_path_factory.mktemp("ws")) as running:
        yield running


async def open_socket(server: LiveServer, **headers: str) -> ClientConnection:
    socket = await connect(server.ws_url, subprotocols=[PROTOCOL], additional_headers=headers)
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    return socket


async def subscribe(socket: ClientConnection, operation_id: str, query: str) -> Any:
    """The operation's `next` (after which `complete` is read too) or its `error`."""
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": query}}
    await socket.send(json.dumps(message))
    answer = json.loads(await socket.recv())
    if answer["type"] == "next":
        assert json.loads(await socket.recv()) == {"id": operation_id, "type": "complete"}
    return answer


def codes(message: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in message["payload"]]


async def assert_still_serves(server: LiveServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.url}/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_parse_and_validation_errors_have_codes_and_keep_the_socket_open(server):
    socket = await open_socket(server)
    parse = await subscribe(socket, "1", "{")
    invalid = await subscribe(socket, "2", "{ nonsense }")
    works = await subscribe(socket, "3", "{ __typename }")
    await socket.close()
    assert (parse["type"], codes(parse)) == ("error", ["GRAPHQL_PARSE_FAILED"])
    assert (invalid["type"], codes(invalid)) == ("error", ["GRAPHQL_VALIDATION_FAILED"])
    assert works == {"id": "3", "type": "next", "payload": {"data": {"__typename": "Query"}}}


async def test_query_limits_apply_over_websocket(server):
    socket = await open_socket(server)
    deep = await subscribe(socket, "1", "{ a " * 16 + "}" * 16)
    aliases = await subscribe(
        socket, "2", "{ " + " ".join(f"a{n}: __typename" for n in range(16)) + " }"
    )
    await socket.close()
    assert deep["payload"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "rule": "depth",
        "limit": 15,
        "measured": 16,
    }
    assert aliases["payload"][0]["extensions"]["rule"] == "aliases"


async def test_field_budgets_are_spent_per_operation_over_websocket(server):
    socket = await open_socket(server)
    answers = [await subscribe(socket, str(n), "{ tags { name } }") for n in range(4)]
    await socket.close()
    assert [answer["type"] for answer in answers[:3]] == ["next"] * 3
    refused = answers[3]
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused["payload"][0]["extensions"]["retryAfter"] >= 1


@pytest.mark.parametrize(
    "message",
    [
        [],
        "text",
        {"type": 1},
        {"type": "subscribe", "id": "1", "payload": "{ __typename }"},
        {"type": "subscribe", "id": "1", "payload": {"query": ["{ __typename }"]}},
        {"type": "subscribe", "id": 1, "payload": {"query": "{ __typename }"}},
        {"type": "complete", "id": {"an": "object"}},
        {"type": "complete", "id": ["1"]},
    ],
)
async def test_a_malformed_message_closes_the_socket_with_4400(server, message):
    socket = await open_socket(server)
    await socket.send(json.dumps(message))
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    await assert_still_serves(server)


async def test_a_message_over_the_size_cap_closes_the_socket(server):
    socket = await open_socket(server)
    query = "{ __typename }" + " " * (64 * 1024)
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await assert_still_serves(server)


async def test_a_page_on_a_foreign_origin_cannot_open_a_socket(server):
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            server.ws_url,
            subprotocols=[PROTOCOL],
            additional_headers={"Origin": "https://evil.example"},
        )
    assert refused.value.response.status_code == 403
    allowed = await open_socket(server, Origin="https://app.example")
    await allowed.close()
    await assert_still_serves(server)


def test_errors_the_protocol_handlers_write_themselves_get_a_code():
    errors = [
        {"message": "Subscription limit reached"},
        {"message": "x", "extensions": {"code": "A"}},
    ]
    assert [error["extensions"]["code"] for error in with_codes(errors)] == ["BAD_REQUEST", "A"]


async def test_control_characters_are_refused_over_websocket_too(server):
    socket = await open_socket(server)
    query = await subscribe(socket, "1", '{ user(username: "ada\\u0000") { id } }')
    live = await subscribe(socket, "2", 'subscription { commentAdded(postId: "\\u0000") { id } }')
    await socket.close()
    refusal = {"code": "BAD_USER_INPUT", "fields": {"username": "Remove the control characters."}}
    assert (query["type"], query["payload"][0]["extensions"]) == ("error", refusal)
    # A subscription refused as it starts is a request error too: one `error` message.
    [error] = live["payload"]
    assert (live["type"], error["extensions"]) == (
        "error",
        {"code": "BAD_USER_INPUT", "fields": {"postId": "Remove the control characters."}},
    )


async def test_several_operations_without_a_name_are_refused_over_websocket(server):
    socket = await open_socket(server)
    answer = await subscribe(socket, "1", "query A { __typename } query B { __typename }")
    works = await subscribe(socket, "2", "{ __typename }")
    await socket.close()
    assert answer == {
        "id": "1",
        "type": "error",
        "payload": [
            {
                "message": "The document has several operations: name one in operationName.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ],
    }
    assert works["payload"] == {"data": {"__typename": "Query"}}


async def signed_up(server: LiveServer, username: str) -> str:
    """`Bearer <access token>` of a new account on the live server."""
    password = "Passw0rd-long"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        register = "mutation($i: RegisterInput!) { register(input: $i) { id } }"
        user = {"email": f"{username}@example.com", "username": username, "password": password}
        assert (
            "errors"
            not in (
                await http.post("/graphql", json={"query": register, "variables": {"i": user}})
            ).json()
        )
        login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
        variables = {"i": {"login": username, "password": password}}
        body = (await http.post("/graphql", json={"query": login, "variables": variables})).json()
    return f"Bearer {body['data']['login']['accessToken']}"


async def test_two_authorization_entries_in_connection_init_close_the_socket_4403(server):
    """Never one picked, whichever comes first; one alone signs the socket in."""
    valid = await signed_up(server, "two-keys")
    for payload in (
        {"Authorization": valid, "authorization": "Bearer forged"},
        {"AUTHORIZATION": "Bearer forged", "Authorization": valid},
    ):
        socket = await connect(server.ws_url, subprotocols=[PROTOCOL])
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    socket = await connect(server.ws_url, subprotocols=[PROTOCOL])
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": valid}}))
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    me = await subscribe(socket, "1", "{ me { username } }")
    await socket.close()
    assert me["payload"] == {"data": {"me": {"username": "two-keys"}}}
    await assert_still_serves(server)
