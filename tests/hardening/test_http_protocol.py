"""GraphQL over HTTP, strictly: media types, status codes, and no malformed request is a 500."""

import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.factories import auth_headers, create_user
from tests.live_server import LiveServer, clean_environment, live_server

GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = {"query": "{ __typename }"}
OK = {"data": {"__typename": "Query"}}


async def post(
    client: httpx.AsyncClient,
    body: object = None,
    accept: str | None = None,
    content: bytes | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {"content-type": content_type}
    if accept:
        headers["accept"] = accept
    if content is None:
        return await client.post("/graphql", json=body, headers=headers)
    return await client.post("/graphql", content=content, headers=headers)


async def assert_still_answers(client: httpx.AsyncClient) -> None:
    response = await post(client, TYPENAME)
    assert (response.status_code, response.json()) == (200, OK)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/*", "application/json"),
    ],
)
async def test_the_response_has_the_media_type_the_client_asked_for(client, accept, media):
    response = await post(client, TYPENAME, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    assert response.json() == OK


async def test_an_unacceptable_media_type_is_406(client):
    response = await post(client, TYPENAME, accept="text/csv")
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize(
    ("query", "code"),
    [("{", "GRAPHQL_PARSE_FAILED"), ("{ nonsense }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_parse_and_validation_failures_have_codes_and_no_data(client, query, code):
    strict = await post(client, {"query": query}, accept=GRAPHQL_RESPONSE)
    legacy = await post(client, {"query": query}, accept="application/json")

    assert strict.status_code == 400
    assert legacy.status_code == 200
    for response in (strict, legacy):
        body = response.json()
        assert "data" not in body
        assert [error["extensions"]["code"] for error in body["errors"]] == [code]


async def test_a_bad_variable_value_is_bad_user_input_naming_the_variable(client):
    body = {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}}
    response = await post(client, body, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fields"]) == ["id"]


async def test_a_mutation_over_get_is_405_and_runs_nothing(client, sql_log):
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert sql_log.statements() == []


async def test_a_query_over_get_runs_with_json_variables(client, db):
    response = await client.get(
        "/graphql",
        params={
            "query": "query($n: String!) { user(username: $n) { id } }",
            "variables": '{"n": "x"}',
        },
    )
    assert (response.status_code, response.json()) == (200, {"data": {"user": None}})


async def test_a_subscription_over_http_is_refused(client):
    response = await post(client, {"query": "subscription { x }"})
    assert response.status_code == 400
    assert "WebSocket" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b'"just a string"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b'[{"query": "{ __typename }"}]', "Batched operations are not supported"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"query": "{ __typename }"', "not valid JSON"),
        (b'{"query": "\xff\xfe"}', "not valid JSON"),
        (b'{"notquery": "{ __typename }"}', "query parameter is missing"),
        (b'{"query": 1}', "query parameter must be a string"),
        (b'{"query": "{ __typename }", "variables": "x"}', "variables parameter must be"),
        (b'{"query": "{ __typename }", "operationName": 1}', "operationName parameter must"),
        (b'{"query": "{ __typename }", "extensions": []}', "extensions parameter must be"),
        (b'{"query": ""}', "query parameter is missing"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "Unknown operation"),
        (b'{"query": "query A { __typename } query B { __typename }"}', "several operations"),
        (b'{"query": "{ __typename } mutation { __typename }"}', "several operations"),
    ],
)
async def test_a_malformed_body_is_400_with_a_clear_error(client, content, message):
    response = await post(client, content=content, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    await assert_still_answers(client)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_content_types_a_browser_sends_cross_site_are_refused(client, sql_log, content_type):
    response = await post(
        client, content=b'{"query": "{ tags { name } }"}', content_type=content_type
    )
    # Multipart is the upload format: refused (400) without a preflight header, which a
    # cross-site form cannot send (API.md, uploads).
    assert response.status_code == (400 if content_type.startswith("multipart") else 415)
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert sql_log.statements() == []
    await assert_still_answers(client)


async def test_a_body_over_one_mebibyte_is_413_announced_or_streamed(client):
    big = b'{"query": "{ __typename }", "pad": "' + b"x" * (1024 * 1024) + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    announced = await post(client, content=big)
    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    for response in (announced, streamed):
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    await assert_still_answers(client)


async def test_a_body_just_under_the_limit_is_served(client):
    padding = "x" * (1024 * 1024 - 100)
    response = await post(client, {"query": "{ __typename }", "extensions": {"pad": padding}})
    assert (response.status_code, response.json()) == (200, OK)


async def test_several_operations_without_a_name_run_none_of_them_over_get(client, sql_log):
    document = "query A { tags { name } } query B { __typename }"
    refused = await client.get("/graphql", params={"query": document})
    named = await client.get("/graphql", params={"query": document, "operationName": "B"})
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [
            {
                "message": "The document has several operations: name one in operationName.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    assert sql_log.statements() == []
    assert (named.status_code, named.json()) == (200, OK)


async def test_two_authorization_headers_are_refused_whichever_comes_first(client, db, settings):
    """Never one picked: a proxy or script adding its own would choose who the request is."""
    ada = await create_user(db, username="ada")
    valid = (await auth_headers(db, settings, ada))["Authorization"]
    for pair in ((valid, "Bearer forged"), ("Bearer forged", valid), (valid, valid)):
        headers = [("Authorization", value) for value in pair]
        headers.append(("Content-Type", "application/json"))
        response = await client.post(
            "/graphql", content=b'{"query": "{ me { id } }"}', headers=headers
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.headers["x-request-id"]
        assert response.json() == {
            "errors": [
                {
                    "message": "Send one Authorization header, not several.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }
    alone = await client.post(
        "/graphql", json={"query": "{ me { username } }"}, headers={"Authorization": valid}
    )
    assert alone.json() == {"data": {"me": {"username": "ada"}}}
    await assert_still_answers(client)


# Slow clients, against a real `blog-graphql serve` with bounds short enough to test.
SLOW_BOUND_SECONDS = 1.0


@pytest.fixture(scope="module")
def bounded_server(tmp_path_factory) -> Iterator[LiveServer]:
    env = clean_environment(
        HTTP_HEADER_TIMEOUT_SECONDS=str(SLOW_BOUND_SECONDS),
        HTTP_BODY_TIMEOUT_SECONDS=str(SLOW_BOUND_SECONDS),
    )
    with live_server(env=env, cwd=tmp_path_factory.mktemp("slow")) as running:
        yield running


def trickle(server: LiveServer, head: bytes, then: bytes) -> tuple[bytes, float]:
    """Send `head` at once, then `then` (again and again) a byte every 0.2 s at most; what
    the server answered, and when it closed (seconds after `head` was sent)."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(0.2)
        started = time.monotonic()
        sock.sendall(head)
        answer = b""
        for byte in itertools.cycle(then):
            if time.monotonic() - started > SLOW_BOUND_SECONDS + 3:
                break  # the server let it be: the assertions say so
            try:
                sock.sendall(bytes([byte]))
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # closed while we were still sending: read what it said
                break
            answer += chunk
            if not chunk:
                return answer, time.monotonic() - started
        closed = time.monotonic() - started
        sock.settimeout(5)
        return answer + read_until_closed(sock), closed


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


def read_response(sock: socket.socket) -> bytes:
    """One whole answer on a kept-alive connection (head, then `content-length` bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def parse_answer(answer: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, json.loads(body)


def assert_timed_out(answer: bytes, elapsed: float, message: str) -> None:
    status, headers, body = parse_answer(answer)
    assert status == 408
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["connection"] == "close"
    assert len(headers["x-request-id"]) == 32
    assert body == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    assert SLOW_BOUND_SECONDS <= elapsed < SLOW_BOUND_SECONDS + 2


def assert_server_answers(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/graphql", json=TYPENAME, timeout=10)
    assert (response.status_code, response.json()) == (200, OK)


def test_headers_sent_too_slowly_get_408_and_the_connection_closes(bounded_server):
    answer, elapsed = trickle(
        bounded_server, b"POST /graphql HTTP/1.1\r\nHost: x\r\n", b"X-Slow: a"
    )
    assert_timed_out(answer, elapsed, "The request headers took too long to arrive.")
    assert_server_answers(bounded_server)


def test_a_connection_that_sends_nothing_is_closed_within_the_bound(bounded_server):
    with socket.create_connection(("127.0.0.1", bounded_server.port)) as sock:
        sock.settimeout(SLOW_BOUND_SECONDS + 5)
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed, with nothing said to no request
        assert time.monotonic() - started < SLOW_BOUND_SECONDS + 2
    assert_server_answers(bounded_server)


def test_a_body_sent_too_slowly_gets_408_and_the_connection_closes(bounded_server):
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    answer, elapsed = trickle(bounded_server, head, b'{"query": "{ __typename }"')
    assert_timed_out(answer, elapsed, "The request body took more than 1 s to arrive.")
    assert_server_answers(bounded_server)


def test_a_kept_alive_connection_serves_requests_within_the_bounds(bounded_server):
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 27\r\n\r\n{"query": "{ __typename }"}'
    )
    with socket.create_connection(("127.0.0.1", bounded_server.port)) as sock:
        sock.settimeout(10)
        for _ in range(2):
            sock.sendall(request)
            answer = read_response(sock)
            status, _headers, body = parse_answer(answer)
            assert (status, body) == (200, OK)
            time.sleep(SLOW_BOUND_SECONDS / 2)


@pytest.mark.parametrize(
    "request_head",
    [
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /graphql?" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
)
def test_a_request_that_is_not_http_gets_a_json_400(bounded_server, request_head):
    with socket.create_connection(("127.0.0.1", bounded_server.port)) as sock:
        sock.settimeout(10)
        sock.sendall(request_head)
        status, headers, body = parse_answer(read_until_closed(sock))
    assert status == 400
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["connection"] == "close"
    assert len(headers["x-request-id"]) == 32
    assert body == {
        "errors": [
            {"message": "Invalid HTTP request received.", "extensions": {"code": "BAD_REQUEST"}}
        ]
    }
    assert_server_answers(bounded_server)
