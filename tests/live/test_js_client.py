"""The `graphql-ws` npm client (what browsers use) against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from tests.factories import auth_headers, create_user
from tests.live.clients import ECHO, RECEIVE_TIMEOUT_SECONDS, VIEWER
from tests.live.conftest import publish

SCRIPT = Path(__file__).parent / "js" / "subscribe.mjs"


class NodeSubscriber:
    """`node subscribe.mjs`: one JSON line per result, then how the socket closed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, url: str, count: int, query: str, variables: dict[str, Any], authorization: str = ""
    ) -> NodeSubscriber:
        node = shutil.which("node")
        assert node, "node must be installed (see tests/live/js/package.json)"
        process = await asyncio.create_subprocess_exec(
            node, str(SCRIPT), url, str(count), query, json.dumps(variables), authorization,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def line(self) -> dict[str, Any]:
        assert self.process.stdout
        raw = await asyncio.wait_for(self.process.stdout.readline(), RECEIVE_TIMEOUT_SECONDS)
        assert raw, "the node client ended early"
        line: dict[str, Any] = json.loads(raw)
        return line

    async def finish(self) -> int:
        return await asyncio.wait_for(self.process.wait(), RECEIVE_TIMEOUT_SECONDS)


async def test_the_graphql_ws_npm_client_receives_published_events(serve):
    with serve() as server:
        client = await NodeSubscriber.start(server.ws_url, 3, ECHO, {"channel": "js"})
        assert await client.line() == {"data": {"echo": "ready"}}
        publish(server, "js", "from python", count=2)
        assert await client.line() == {"data": {"echo": "from python"}}
        assert await client.line() == {"data": {"echo": "from python"}}
        assert await client.line() == {"closed": 1000}
        assert await client.finish() == 0


async def test_the_graphql_ws_npm_client_authenticates_in_connection_params(serve, db, settings):
    ada = await create_user(db, username="ada")
    authorization = (await auth_headers(db, settings, ada))["Authorization"]
    with serve() as server:
        client = await NodeSubscriber.start(server.ws_url, 1, VIEWER, {}, authorization)
        assert await client.line() == {"data": {"viewer": "ada"}}
        refused = await NodeSubscriber.start(server.ws_url, 1, VIEWER, {}, "Bearer forged")
        assert await refused.line() == {"closed": 4403}
        await refused.finish()
        assert await client.finish() == 0
