"""Persisted documents: Automatic Persisted Queries and trusted documents, over GET, POST and WS."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.factories import create_post, create_user
from tests.foundation.test_cli import run_cli
from tests.live.clients import PROTOCOLS, TRANSPORT_WS, GraphQLSocket, graphql_socket
from tests.live_server import LiveServer, clean_environment, live_server

TYPENAME = "{ __typename }"
POSTS = "query Titles { posts(first: 5) { edges { node { title } } } }"
TAGS = "query Tags { tags { name } }"
LOGOUT = "mutation Out { logout }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}


def get_params(**values: object) -> dict[str, str]:
    """Query string parameters as Apollo's link sends them: objects JSON-encoded."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def refusal(response: httpx.Response, status: int = 400) -> str:
    """The message of a BAD_REQUEST answer, after checking its status and code."""
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "data" not in response.json()
    message: str = error["message"]
    return message


async def assert_still_answers(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": TYPENAME})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A manifest as GraphQL Codegen's client preset writes it; one key without the prefix."""
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{sha256(POSTS)}": POSTS, sha256(TAGS): TAGS}))
    return path


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document Strawberry parses, in order."""
    calls: list[str] = []
    real_parse = graphql.parse  # what Strawberry's schema module imported

    def counting_parse(source: Any, **options: Any) -> Any:
        calls.append(str(getattr(source, "body", source)))
        return real_parse(source, **options)

    monkeypatch.setattr("strawberry.schema.schema.parse", counting_parse)
    return calls


# --- Automatic Persisted Queries --------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE])
async def test_an_unknown_hash_alone_is_persisted_query_not_found_with_200(client, accept):
    # 200 even for graphql-response+json: Apollo clients give up on APQ after a 400.
    headers = {"accept": accept} if accept else {}
    response = await client.post("/graphql", json={"extensions": apq(TYPENAME)}, headers=headers)
    assert (response.status_code, response.json()) == (200, NOT_FOUND)
    by_get = await client.get("/graphql", params=get_params(extensions=apq(TYPENAME)))
    assert (by_get.status_code, by_get.json()) == (200, NOT_FOUND)


async def test_a_registered_query_runs_by_its_hash_over_post_and_get(client, db):
    author = await create_user(db, username="ada")
    await create_post(db, author=author, title="Persisted", published=True)
    expected = {"data": {"posts": {"edges": [{"node": {"title": "Persisted"}}]}}}

    registered = await client.post("/graphql", json={"query": POSTS, "extensions": apq(POSTS)})
    assert registered.json() == expected
    by_post = await client.post("/graphql", json={"extensions": apq(POSTS)})
    assert by_post.json() == expected
    params = get_params(operationName="Titles", variables={}, extensions=apq(POSTS))
    by_get = await client.get("/graphql", params=params)
    assert (by_get.status_code, by_get.json()) == (200, expected)


async def test_registration_also_works_over_get(client):
    params = get_params(query=TYPENAME, extensions=apq(TYPENAME))
    assert (await client.get("/graphql", params=params)).json() == {"data": {"__typename": "Query"}}
    hit = await client.get("/graphql", params=get_params(extensions=apq(TYPENAME)))
    assert hit.json() == {"data": {"__typename": "Query"}}


async def test_a_hash_that_does_not_match_the_query_is_refused_and_not_kept(client):
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256(TAGS)}}
    response = await client.post("/graphql", json={"query": TYPENAME, "extensions": wrong})
    assert refusal(response) == "provided sha does not match query"
    # Nothing was registered under that hash.
    assert (await client.post("/graphql", json={"extensions": wrong})).json() == NOT_FOUND
    await assert_still_answers(client)


@pytest.mark.parametrize(
    ("persisted", "message"),
    [
        ({"version": 2, "sha256Hash": sha256(TYPENAME)}, "Unsupported persisted query version"),
        ({"sha256Hash": sha256(TYPENAME)}, "Unsupported persisted query version"),
        ("v1", "Unsupported persisted query version"),
        ({"version": 1, "sha256Hash": "abc"}, "must be 64 hexadecimal digits"),
        ({"version": 1}, "must be 64 hexadecimal digits"),
    ],
)
async def test_a_malformed_persisted_query_is_bad_request(client, persisted, message):
    body = {"query": TYPENAME, "extensions": {"persistedQuery": persisted}}
    assert message in refusal(await client.post("/graphql", json=body))
    hash_only = {"extensions": body["extensions"]}
    assert message in refusal(await client.post("/graphql", json=hash_only))


async def test_a_document_that_does_not_validate_is_not_registered(client):
    invalid = "{ nonsense }"
    answer = await client.post("/graphql", json={"query": invalid, "extensions": apq(invalid)})
    assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await client.post("/graphql", json={"extensions": apq(invalid)})).json() == NOT_FOUND


async def test_a_mutation_by_hash_over_get_stays_405(client):
    registered = await client.post("/graphql", json={"query": LOGOUT, "extensions": apq(LOGOUT)})
    assert registered.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # it ran
    by_post = await client.post("/graphql", json={"extensions": apq(LOGOUT)})
    assert by_post.json() == registered.json()
    response = await client.get("/graphql", params=get_params(extensions=apq(LOGOUT)))
    assert refusal(response, 405) == "Mutations need POST."
    assert response.headers["allow"] == "POST"


async def test_a_persisted_request_skips_parsing_the_second_time(client, parse_calls):
    await client.post("/graphql", json={"query": TAGS, "extensions": apq(TAGS)})
    assert parse_calls == [TAGS]
    for _ in range(3):
        hit = await client.get("/graphql", params=get_params(extensions=apq(TAGS)))
        assert hit.json() == {"data": {"tags": []}}
    assert parse_calls == [TAGS]  # the document cache served the same text's parsed document


@requires_redis
async def test_registrations_are_shared_by_every_instance_through_redis(client_with):
    prefix = f"test-apq-{uuid.uuid4().hex}:"
    shared = {"redis_url": TEST_REDIS_URL, "pubsub_prefix": prefix, "key_prefix": prefix}
    first, second = client_with(**shared), client_with(**shared)
    assert (await second.post("/graphql", json={"extensions": apq(TAGS)})).json() == NOT_FOUND

    await first.post("/graphql", json={"query": TAGS, "extensions": apq(TAGS)})
    hit = await second.get("/graphql", params=get_params(extensions=apq(TAGS)))
    assert hit.json() == {"data": {"tags": []}}

    redis = Redis.from_url(str(TEST_REDIS_URL))
    try:
        key = f"{prefix}apq:{sha256(TAGS)}"
        assert await redis.get(key) == TAGS.encode()
        assert 0 < await redis.ttl(key) <= 24 * 3600
        await redis.delete(key)
    finally:
        await redis.aclose()


async def test_a_redis_outage_falls_back_to_memory_and_logs_once(client_with, caplog):
    down = client_with(redis_url="redis://127.0.0.1:1/0", rate_limit_enabled=False)
    caplog.set_level(logging.WARNING, logger="blog_graphql.persisted")
    body = {"query": TAGS, "extensions": apq(TAGS)}
    for _ in range(2):
        assert (await down.post("/graphql", json=body)).json() == {"data": {"tags": []}}
    hit = await down.post("/graphql", json={"extensions": apq(TAGS)})
    assert hit.json() == {"data": {"tags": []}}
    outages = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(outages) == 1


# --- Trusted documents ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["sha256:", ""])
async def test_trusted_documents_run_by_document_id_over_get_and_post(
    client_with, manifest, db, prefix
):
    author = await create_user(db, username="ada")
    await create_post(db, author=author, title="Trusted", published=True)
    client = client_with(trusted_documents=str(manifest))
    expected_posts = {"data": {"posts": {"edges": [{"node": {"title": "Trusted"}}]}}}
    for document, expected in ((POSTS, expected_posts), (TAGS, {"data": {"tags": []}})):
        document_id = prefix + sha256(document)
        by_post = await client.post("/graphql", json={"documentId": document_id})
        assert (by_post.status_code, by_post.json()) == (200, expected)
        by_get = await client.get("/graphql", params={"documentId": document_id})
        assert (by_get.status_code, by_get.json()) == (200, expected)


async def test_an_unknown_document_id_is_persisted_query_not_found(client_with, manifest):
    client = client_with(trusted_documents=str(manifest))
    for document_id in (f"sha256:{sha256(TYPENAME)}", "not-a-hash"):
        response = await client.post("/graphql", json={"documentId": document_id})
        assert (response.status_code, response.json()) == (200, NOT_FOUND)
        by_get = await client.get("/graphql", params={"documentId": document_id})
        assert (by_get.status_code, by_get.json()) == (200, NOT_FOUND)


async def test_a_browser_opening_a_persisted_url_gets_the_answer_not_graphiql(
    client_with, manifest
):
    client = client_with(trusted_documents=str(manifest), graphiql=True)
    html = {"accept": "text/html,application/json;q=0.9"}
    by_id = await client.get("/graphql", params={"documentId": sha256(TAGS)}, headers=html)
    assert by_id.json() == {"data": {"tags": []}}
    by_hash = await client.get("/graphql", params=get_params(extensions=apq(TAGS)), headers=html)
    assert by_hash.json() == {"data": {"tags": []}}
    assert "<html" in (await client.get("/graphql", headers=html)).text.lower()


async def test_a_document_id_with_a_query_or_not_a_string_is_bad_request(client_with, manifest):
    client = client_with(trusted_documents=str(manifest))
    both = {"documentId": f"sha256:{sha256(TAGS)}", "query": TAGS}
    assert refusal(await client.post("/graphql", json=both)) == (
        "Send a documentId or a query, not both."
    )
    assert "documentId" in refusal(await client.post("/graphql", json={"documentId": 7}))


async def test_trusted_documents_only_refuses_free_queries_and_registrations(client_with, manifest):
    client = client_with(trusted_documents=str(manifest), trusted_documents_only=True)
    free = await client.post("/graphql", json={"query": TYPENAME})
    assert "Only trusted documents run here" in refusal(free)
    free_get = await client.get("/graphql", params={"query": TYPENAME})
    assert "Only trusted documents run here" in refusal(free_get)
    registration = {"query": TYPENAME, "extensions": apq(TYPENAME)}
    assert "Only trusted documents" in refusal(await client.post("/graphql", json=registration))
    # What the manifest holds still runs, by documentId or by its hash alone (Apollo's lists).
    trusted = await client.post("/graphql", json={"documentId": sha256(TAGS)})
    assert trusted.json() == {"data": {"tags": []}}
    by_hash = await client.get("/graphql", params=get_params(extensions=apq(TAGS)))
    assert by_hash.json() == {"data": {"tags": []}}


async def test_a_trusted_document_skips_parsing_the_second_time(client_with, manifest, parse_calls):
    client = client_with(trusted_documents=str(manifest))
    for _ in range(3):
        response = await client.get("/graphql", params={"documentId": f"sha256:{sha256(TAGS)}"})
        assert response.json() == {"data": {"tags": []}}
    assert parse_calls == [TAGS]


def bad_manifests(tmp_path: Path) -> Iterator[tuple[str, str]]:
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "mismatch.json").write_text(json.dumps({f"sha256:{sha256(TAGS)}": TYPENAME}))
    (tmp_path / "badkey.json").write_text(json.dumps({"tags": TAGS}))
    yield str(tmp_path / "missing.json"), "cannot read"
    yield str(tmp_path / "broken.json"), "is not a JSON manifest"
    yield str(tmp_path / "list.json"), "must hold a JSON object"
    yield str(tmp_path / "mismatch.json"), "does not have that hash"
    yield str(tmp_path / "badkey.json"), "is not a sha256:<hex> document id"


def test_a_bad_manifest_stops_the_cli_with_one_line_and_exit_2(tmp_path):
    for path, problem in bad_manifests(tmp_path):
        result = run_cli("export-schema", env={"TRUSTED_DOCUMENTS": path}, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("blog-graphql: error: TRUSTED_DOCUMENTS: ")
        assert problem in line


def test_trusted_documents_only_needs_a_manifest(tmp_path):
    result = run_cli("export-schema", env={"TRUSTED_DOCUMENTS_ONLY": "true"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "blog-graphql: error: TRUSTED_DOCUMENTS_ONLY: set TRUSTED_DOCUMENTS to a manifest too"
    ]


# --- WebSocket --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trusted_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("trusted")
    path = folder / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{sha256(TAGS)}": TAGS}))
    env = clean_environment(TRUSTED_DOCUMENTS=str(path), TRUSTED_DOCUMENTS_ONLY="true")
    with live_server(env=env, cwd=folder) as server:
        yield server


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(env=clean_environment(), cwd=tmp_path_factory.mktemp("apq")) as server:
        yield server


async def operation(socket: GraphQLSocket, op_id: str, payload: dict[str, Any]) -> Any:
    """The operation's first answer (its `next` or its `error`), read past its `complete`."""
    await socket.send({"id": op_id, "type": "subscribe", "payload": payload})
    answer = await socket.receive()
    if answer["type"] == "next":
        assert await socket.receive() == {"id": op_id, "type": "complete"}
    return answer


def error_codes(answer: dict[str, Any]) -> list[str]:
    assert answer["type"] == "error", answer
    payload = answer["payload"]
    errors = payload if isinstance(payload, list) else [payload]  # the legacy protocol: one
    return [error["extensions"]["code"] for error in errors]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_over_websocket_only_trusted_documents_run(trusted_only_server, protocol):
    async with graphql_socket(trusted_only_server.ws_url, protocol) as socket:
        assert (await socket.init({}))["type"] == "connection_ack"
        free = await operation(socket, "1", {"query": TYPENAME})
        assert error_codes(free) == ["BAD_REQUEST"]
        registration = await operation(socket, "2", {"query": TAGS, "extensions": apq(TAGS)})
        assert error_codes(registration) == ["BAD_REQUEST"]
        unknown = await operation(socket, "3", {"documentId": f"sha256:{sha256(TYPENAME)}"})
        assert error_codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
        if protocol == TRANSPORT_WS:  # the legacy protocol runs subscriptions only
            trusted = await operation(socket, "4", {"documentId": f"sha256:{sha256(TAGS)}"})
            assert trusted == {"id": "4", "type": "next", "payload": {"data": {"tags": []}}}


async def test_automatic_persisted_queries_work_over_websocket(plain_server):
    document = "query WebSocketTags { tags { name } }"
    async with graphql_socket(plain_server.ws_url, TRANSPORT_WS) as socket:
        assert (await socket.init({}))["type"] == "connection_ack"
        miss = await operation(socket, "1", {"extensions": apq(document)})
        assert error_codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
        wrong = await operation(socket, "2", {"query": TYPENAME, "extensions": apq(document)})
        assert error_codes(wrong) == ["BAD_REQUEST"]
        registered = await operation(socket, "3", {"query": document, "extensions": apq(document)})
        assert registered["payload"] == {"data": {"tags": []}}
        hit = await operation(socket, "4", {"extensions": apq(document)})
        assert hit == {"id": "4", "type": "next", "payload": {"data": {"tags": []}}}
    # Registered for HTTP too: one store per instance.
    async with httpx.AsyncClient() as http:
        by_get = await http.get(
            f"{plain_server.url}/graphql", params=get_params(extensions=apq(document))
        )
    assert by_get.json() == {"data": {"tags": []}}
