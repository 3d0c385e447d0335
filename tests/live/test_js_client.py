"""The `graphql-ws` npm client (what browsers use) against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from blog_graphql.comments.events import post_channel
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import RECEIVE_TIMEOUT_SECONDS
from tests.live.comments import COMMENT_ADDED, add_comment, listening, post_id

SCRIPT = Path(__file__).parent / "js" / "subscribe.mjs"


class NodeSubscriber:
    """`node subscribe.mjs` (or another client's `script`): one JSON line per result, then
    how the operation ended."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        url: str,
        count: int,
        query: str,
        variables: dict[str, Any],
        authorization: str = "",
        script: Path = SCRIPT,
    ) -> NodeSubscriber:
        node = shutil.which("node")
        assert node, "node must be installed (see tests/live/js/package.json)"
        process = await asyncio.create_subprocess_exec(
            node, str(script), url, str(count), query, json.dumps(variables), authorization,
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


async def test_the_graphql_ws_npm_client_receives_new_comments(serve, db, settings):
    ada, bob = await create_user(db), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    with serve() as server:
        client = await NodeSubscriber.start(
            server.ws_url, 2, COMMENT_ADDED, {"post": post_id(post)}
        )
        await listening(server, post_channel(post.id), 1)
        ids = [add_comment(server, bob_token, post, text) for text in ("one", "two")]
        lines = [await client.line() for _ in range(3)]
        assert await client.finish() == 0
    assert lines == [
        {"data": {"commentAdded": {"id": ids[0], "content": "one", "isApproved": True,
                                   "author": {"username": "bob"}}}},
        {"data": {"commentAdded": {"id": ids[1], "content": "two", "isApproved": True,
                                   "author": {"username": "bob"}}}},
        {"closed": 1000},
    ]  # fmt: skip


async def test_the_graphql_ws_npm_client_authenticates_in_connection_params(serve, db, settings):
    """Its author watches a draft's comments; a forged token is closed with 4403."""
    ada = await create_user(db, username="ada")
    draft = await create_post(db, author=ada, published=False)
    authorization = (await auth_headers(db, settings, ada))["Authorization"]
    variables = {"post": post_id(draft)}
    with serve() as server:
        client = await NodeSubscriber.start(
            server.ws_url, 1, COMMENT_ADDED, variables, authorization
        )
        await listening(server, post_channel(draft.id), 1)
        add_comment(server, authorization, draft, "draft note")
        heard = await client.line()
        refused = await NodeSubscriber.start(
            server.ws_url, 1, COMMENT_ADDED, variables, "Bearer forged"
        )
        assert await refused.line() == {"closed": 4403}
        await refused.finish()
        assert await client.finish() == 0
    assert heard["data"]["commentAdded"]["content"] == "draft note"
