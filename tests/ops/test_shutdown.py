"""SIGTERM during load: readiness turns 503, in-flight requests finish, nothing is reset.

The clients play a load balancer: they stop starting requests once `/readyz` says 503,
as a balancer's health check would. A request whose body is still arriving when the
instance stops accepting proves that in-flight requests are drained, not cut.
"""

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

from tests.live_server import LiveServer, clean_environment, live_server

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


async def test_sigterm_closes_websockets_with_going_away_and_turns_new_ones_away(tmp_path):
    env = clean_environment(SHUTDOWN_DRAIN_SECONDS="2", LOG_FORMAT="json")
    with live_server(env=env, cwd=tmp_path) as server:
        sockets = [await open_socket(server) for _ in range(3)]

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


async def open_socket(server: LiveServer):
    ws = await websockets.connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws
