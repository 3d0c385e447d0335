"""docs/clients/fetch-and-graphql-ws.md, run as written by node against a real server.

The page's two code blocks (the `api.js` module and its use) go into a folder of their
own, with only the API's address changed; node runs them with the graphql-ws package of
tests/live/js and an in-memory `localStorage`, as a browser would.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

from sqlalchemy import select

from blog_graphql.comments.events import post_channel
from blog_graphql.comments.models import Comment
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import RECEIVE_TIMEOUT_SECONDS
from tests.live.comments import add_comment, listening

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docs" / "clients" / "fetch-and-graphql-ws.md"
JS_PACKAGES = Path(__file__).parent / "js" / "node_modules"
DOCUMENTED_URL = '"http://127.0.0.1:8000/graphql"'

# Node 20 has no browser globals: give the recipe what a page has, run it, then check
# that a request with a dead access token refreshes once and goes through.
HARNESS = """
import WebSocket from "ws";
const stored = new Map();
globalThis.localStorage = {
  getItem: (key) => stored.get(key) ?? null,
  setItem: (key, value) => stored.set(key, String(value)),
  removeItem: (key) => stored.delete(key),
};
globalThis.WebSocket = WebSocket;
const print = console.log;
console.log = (...values) => print(JSON.stringify(values));

await import("./using.js");
const { graphql, storeTokens } = await import("./api.js");
print(JSON.stringify(["subscribed"]));

const refreshToken = localStorage.getItem("refreshToken");
storeTokens({ accessToken: "not-a-token", refreshToken, expiresIn: 1800 });
const { me } = await graphql("query { me { username } }");
const rotated = localStorage.getItem("refreshToken") !== refreshToken;
print(JSON.stringify(["after refresh", me.username, rotated]));
"""


def recipe_blocks() -> tuple[str, str]:
    api, using = re.findall(r"^```js\n(.*?)^```", RECIPE.read_text(), re.MULTILINE | re.DOTALL)
    return api, using


def write_recipe(folder: Path, url: str) -> Path:
    api, using = recipe_blocks()
    assert DOCUMENTED_URL in api
    (folder / "package.json").write_text('{"type": "module"}')
    (folder / "node_modules").symlink_to(JS_PACKAGES)
    (folder / "api.js").write_text(api.replace(DOCUMENTED_URL, json.dumps(url)))
    (folder / "using.js").write_text(using)
    (folder / "main.js").write_text(HARNESS)
    return folder / "main.js"


async def next_line(process: asyncio.subprocess.Process) -> list[object]:
    assert process.stdout
    raw = await asyncio.wait_for(process.stdout.readline(), RECEIVE_TIMEOUT_SECONDS)
    assert raw, "the recipe ended early"
    line: list[object] = json.loads(raw)
    return line


async def test_the_fetch_and_graphql_ws_recipe_works_as_written(serve, db, settings, tmp_path):
    alice = await create_user(db, username="alice", password="Password123")
    bob = await create_user(db, username="bob")
    post = await create_post(db, author=alice, title="Hello world")
    assert post.slug == "hello-world"
    bob_token = (await auth_headers(db, settings, bob))["Authorization"]
    node = shutil.which("node")
    assert node, "node must be installed (see tests/live/js/package.json)"
    with serve() as server:
        main = write_recipe(tmp_path, f"{server.url}/graphql")
        process = await asyncio.create_subprocess_exec(
            node, str(main), cwd=tmp_path, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert await next_line(process) == ["subscribed"]
            assert await next_line(process) == ["after refresh", "alice", True]
            await listening(server, post_channel(post.id), 1)
            comment_id = add_comment(server, bob_token, post, "From Bob")
            assert await next_line(process) == ["ADDED", comment_id]
        finally:
            process.kill()
            await process.wait()
    async with db.session() as session:
        contents = (await session.scalars(select(Comment.content))).all()
    assert sorted(contents) == ["From Bob", "Nice post!"]
