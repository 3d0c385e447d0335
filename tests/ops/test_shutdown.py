"""SIGTERM during load: readiness turns 503, in-flight requests finish, nothing is reset.

The clients play a load balancer: they stop starting requests once `/readyz` says 503,
as a balancer's health check would. A request whose body is still arriving when the
instance stops accepting proves that in-flight requests are drained, not cut.
"""

import asyncio
import json
import signal
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from blog_graphql.emails.models import ENQUEUED, SENT
from blog_graphql.relay.ids import encode_id
from tests.emails.stand_in import outbox_rows, sign_up, wait_for_statuses
from tests.factories import create_post, create_user
from tests.live_server import LiveServer, clean_environment, live_server
from tests.waiting import eventually

EMAILS = 20
CLIENTS = 6
MAX_REQUESTS_PER_CLIENT = 300
QUERY = {"query": "query Load { tags { name } }"}
SLOW_BODY = json.dumps({"query": "query Slow { tags { name } }"}).encode()


@dataclass
class Load:
    """Bounded background load; every outcome is counted."""

    server: LiveServer
    draining_seen: threading.Event = field(default_factory=threading.Event)
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as http:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if self.draining_seen.is_set():
                    return
                self.record(self.attempt(http))

    def attempt(self, http: httpx.Client) -> str:
        try:
            response = http.post("/graphql", json=QUERY, headers={"Connection": "close"})
        except httpx.ConnectError:
            return "refused"
        except httpx.TransportError as error:  # reset, or closed mid-response
            return f"broken: {type(error).__name__}"
        ok = response.status_code == 200 and response.json() == {"data": {"tags": []}}
        return "ok" if ok else f"status {response.status_code}"

    def watch_readiness(self) -> None:
        """Poll /readyz like a balancer's health check (bounded)."""
        for _ in range(2000):
            try:
                status = httpx.get(f"{self.server.url}/readyz", timeout=5).status_code
            except httpx.TransportError:
                status = 0
            if status == 503:
                self.draining_seen.set()
                return
            self.draining_seen.wait(0.02)

    def record(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


def start_slow_request(server: LiveServer) -> socket.socket:
    """Headers and half a body: the request is in flight until the rest is sent."""
    connection = socket.create_connection(("127.0.0.1", server.port))
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(SLOW_BODY)}\r\n\r\n"
    ).encode()
    connection.sendall(head + SLOW_BODY[:10])
    return connection


def finish_slow_request(connection: socket.socket) -> bytes:
    connection.sendall(SLOW_BODY[10:])
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks)


def refuses_connections(server: LiveServer) -> bool:
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_under_load_drains_in_flight_requests_and_resets_none(tmp_path):
    env = clean_environment(SHUTDOWN_DRAIN_SECONDS="1", LOG_FORMAT="json")
    with live_server(env=env, cwd=tmp_path) as server:
        load = Load(server)
        threads = [threading.Thread(target=load.client) for _ in range(CLIENTS)]
        watcher = threading.Thread(target=load.watch_readiness)
        for thread in threads:
            thread.start()
        slow = start_slow_request(server)
        while sum(load.outcomes.values()) < 30:  # the load is under way
            threading.Event().wait(0.05)

        server.process.send_signal(signal.SIGTERM)
        watcher.start()
        watcher.join()
        for thread in threads:
            thread.join()
        assert poll_until(lambda: refuses_connections(server))
        answer = finish_slow_request(slow)
        assert server.process.wait(timeout=60) is not None

    assert load.draining_seen.is_set()
    assert set(load.outcomes) == {"ok"}, load.outcomes
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in head.lower()
    assert json.loads(body) == {"data": {"tags": []}}
    logs = server.logs()
    assert "draining" in logs
    assert "Application shutdown complete" in logs


def poll_until(check, attempts=300) -> bool:
    for _ in range(attempts):
        if check():
            return True
        threading.Event().wait(0.05)
    return False


async def test_sigterm_closes_websockets_with_going_away_and_turns_new_ones_away(
    db, database_url, tmp_path
):
    post = await create_post(db, author=await create_user(db))
    env = clean_environment(
        DATABASE_URL=database_url, SHUTDOWN_DRAIN_SECONDS="2", LOG_FORMAT="json"
    )
    with live_server(env=env, cwd=tmp_path) as server:
        sockets = [await watching_comments(server, post) for _ in range(3)]

        server.process.send_signal(signal.SIGTERM)
        closes = []
        for ws in sockets:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            received = closed.value.rcvd
            closes.append((received.code, received.reason) if received else None)
        with pytest.raises(websockets.InvalidStatus):
            await open_socket(server)
        async with httpx.AsyncClient() as http:
            ready = await http.get(f"{server.url}/readyz")

    assert closes == [(1001, "Server shutting down")] * 3
    assert (ready.status_code, ready.json()) == (503, {"status": "draining"})


async def watching_comments(server: LiveServer, post):
    """A socket with a running `commentAdded` subscription on `post`."""
    ws = await open_socket(server)
    query = "subscription($p: ID!) { commentAdded(postId: $p) { id } }"
    payload = {"query": query, "variables": {"p": encode_id("Post", post.id)}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def open_socket(server: LiveServer):
    ws = await websockets.connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


async def test_sigterm_loses_no_email_the_in_process_worker_had_or_had_yet_to_send(
    db, database_url, smtp_server, tmp_path
):
    env = clean_environment(
        DATABASE_URL=database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        OUTBOX_RELAY_INTERVAL_SECONDS="0.2",
        SHUTDOWN_DRAIN_SECONDS="0.5",
        LOG_FORMAT="json",
        BCRYPT_ROUNDS="4",
        RATE_LIMIT_ENABLED="false",
    )
    names = [f"user{n}" for n in range(EMAILS)]
    hold = smtp_server.hold()  # the first email stays in flight until released
    with live_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for name in names[:-2]:
                assert await register(http, name)  # its welcome email is queued
        await asyncio.to_thread(hold.wait_until_started)
        assert await reaches(lambda: queued_count(db), at_least=EMAILS - 2)

        server.process.send_signal(signal.SIGTERM)  # one email in flight, the rest queued
        # Held until HTTP is drained and the app shuts down, its worker with it.
        assert await reaches(lambda: shutting_down(server), at_least=1)
        hold.release()
        assert await asyncio.to_thread(server.process.wait, 60) is not None
        logs = server.logs()

    assert await sent_count(db) == EMAILS - 2  # all sent before the process left
    for name in names[-2:]:
        await sign_up(db, name)  # committed while no server runs
    with live_server(env=env, cwd=tmp_path):  # the next start's relay sends those
        await wait_for_statuses(db, [SENT] * EMAILS)

    recipients = sorted(r for mail in smtp_server.received for r in mail.recipients)
    assert recipients == sorted(f"{name}@example.com" for name in names)  # each exactly once
    assert '"outcome":"failed"' not in logs


async def register(http: httpx.AsyncClient, name: str) -> bool:
    mutation = "mutation R($input: RegisterInput!) { register(input: $input) { id } }"
    signup = {"email": f"{name}@example.com", "username": name, "password": "Secret123"}
    response = await http.post("/graphql", json={"query": mutation, "variables": {"input": signup}})
    return "id" in ((response.json().get("data") or {}).get("register") or {})


async def sent_count(db) -> int:
    return sum(1 for row in await outbox_rows(db) if row.status == SENT)


async def queued_count(db) -> int:
    """Rows handed to the in-process worker (or already sent)."""
    return sum(1 for row in await outbox_rows(db) if row.status in (ENQUEUED, SENT))


async def shutting_down(server: LiveServer) -> int:
    return int("Waiting for application shutdown" in server.logs())


async def reaches(count, at_least: int) -> bool:
    async def enough() -> bool:
        return bool(await count() >= at_least)

    return bool(await eventually(enough, within=30, what=f"a count of {at_least}"))
