"""The compose stack's proxy, for real: Caddy with deploy/Caddyfile before two `serve` instances.

Run by `.ci/run` (which installs Caddy): `uv run python -m tests.ops.check_proxy`. Not a
pytest module, so that `uv run pytest` needs nothing beyond `uv sync`. Checks that requests
are spread over both instances, WebSocket upgrades pass, `/metrics` stays private, and
requests keep succeeding after one instance stops.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.live_server import LiveServer, clean_environment, free_port, live_server

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
TOKEN = "metrics-token-0123456789"
REQUESTS = 30


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@contextmanager
def caddy(upstreams: list[LiveServer], home: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PROXY_PORT": str(port),
        "PROXY_BIND": "127.0.0.1",
        "API_UPSTREAMS": " ".join(f"127.0.0.1:{server.port}" for server in upstreams),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
    }
    command = ["caddy", "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    with (home / "caddy.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        expect(poll(lambda: _answers(url)), "caddy did not start: see its log below")
        yield url
    except CheckFailed:
        print((home / "caddy.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def poll(check: Callable[[], bool], attempts: int = 100) -> bool:
    for _ in range(attempts):
        if check():
            return True
        time.sleep(0.1)
    return False


def ping(url: str, name: str) -> int:
    response = httpx.post(
        f"{url}/graphql", json={"query": f"query {name} {{ tags {{ name }} }}"}, timeout=15
    )
    expect(response.status_code == 200, f"status {response.status_code}: {response.text}")
    expect(response.json() == {"data": {"tags": []}}, f"unexpected answer {response.text}")
    return response.status_code


def served(server: LiveServer, operation: str) -> int:
    lines = (json.loads(line) for line in server.logs().splitlines() if line.startswith("{"))
    return sum(1 for line in lines if line.get("operation") == operation)


def check_spread(url: str, servers: list[LiveServer]) -> None:
    statuses = [ping(url, "Spread") for _ in range(REQUESTS)]
    expect(statuses == [200] * REQUESTS, f"statuses {statuses}")
    expect(poll(lambda: sum(served(s, "Spread") for s in servers) == REQUESTS), "lost lines")
    counts = [served(server, "Spread") for server in servers]
    expect(all(counts), f"one instance got nothing: {counts}")


def check_metrics_private(url: str, server: LiveServer) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    expect(httpx.get(f"{url}/metrics", headers=bearer).status_code == 404, "metrics leak")
    expect(httpx.get(f"{server.url}/metrics", headers=bearer).status_code == 200, "no metrics")


async def check_websocket(url: str) -> None:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    protocol = Subprotocol("graphql-transport-ws")
    async with websockets.connect(ws_url, subprotocols=[protocol]) as socket:
        expect(socket.subprotocol == protocol, f"subprotocol {socket.subprotocol}")
        await socket.send(json.dumps({"type": "connection_init"}))
        expect(json.loads(await socket.recv()) == {"type": "connection_ack"}, "no ack")


def check_failover(url: str, stopping: LiveServer) -> None:
    """Requests refused by a stopped instance are retried on the other one.

    GET queries: Caddy before 2.11.2 (Debian's, here) loses a POST body on such a retry;
    the compose stack pins a fixed release.
    """
    stopping.process.send_signal(signal.SIGTERM)
    stopping.process.wait(timeout=30)
    for _ in range(REQUESTS):
        response = httpx.get(f"{url}/graphql", params={"query": "{ tags { name } }"}, timeout=15)
        expect(response.status_code == 200, f"status {response.status_code} after a stop")
        expect(response.json() == {"data": {"tags": []}}, f"unexpected answer {response.text}")


def main() -> None:
    if shutil.which("caddy") is None:
        sys.exit("check_proxy: caddy is not installed (apt-get install caddy)")
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        env = clean_environment(
            DATABASE_URL=f"sqlite:///{scratch}/shared.db", METRICS_TOKEN=TOKEN, LOG_FORMAT="json"
        )
        servers = [stack.enter_context(live_server(env, Path(scratch))) for _ in range(2)]
        url = stack.enter_context(caddy(servers, Path(scratch)))
        checks: list[tuple[str, Callable[[], object]]] = [
            ("requests spread over both instances", lambda: check_spread(url, servers)),
            (
                "/metrics is not served through the proxy",
                lambda: check_metrics_private(url, servers[1]),
            ),
            ("WebSocket upgrade passes", lambda: asyncio.run(check_websocket(url))),
            ("requests succeed after an instance stops", lambda: check_failover(url, servers[0])),
        ]
        for name, check in checks:
            check()
            print(f"proxy check: {name}: ok")
    print(f"proxy check: all {len(checks)} checks passed")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as failure:
        sys.exit(f"proxy check failed: {failure}")
