"""Driving the real comment subscriptions on a live server: documents and helpers."""

from __future__ import annotations

from typing import Any

import httpx

from blog_graphql.comments.events import post_channel
from blog_graphql.posts.models import Post
from blog_graphql.relay.ids import encode_id
from tests.live.clients import TRANSPORT_WS, GraphQLSocket
from tests.live_server import LiveServer
from tests.waiting import eventually

COMMENT_ADDED = (
    "subscription($post: ID!) "
    "{ commentAdded(postId: $post) { id content isApproved author { username } } }"
)
COMMENT_EVENTS = (
    "subscription($post: ID!) { commentEvents(postId: $post) "
    "{ kind commentId comment { id content isApproved isDeleted } } }"
)
COMMENT_MODERATION = (
    "subscription { commentModeration { kind commentId comment { content isApproved } } }"
)
ADD_COMMENT = (
    "mutation($post: ID!, $content: String!, $parent: ID) "
    "{ addComment(input: {postId: $post, content: $content, parentId: $parent}) { id } }"
)
UPDATE_COMMENT = (
    "mutation($id: ID!, $content: String!) { updateComment(id: $id, content: $content) { id } }"
)
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
MODERATE_COMMENT = (
    "mutation($id: ID!, $approved: Boolean!) "
    "{ moderateComment(id: $id, approved: $approved) { id } }"
)
UNPUBLISH_POST = "mutation($id: ID!) { unpublishPost(id: $id) { published } }"
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) }"
# Long enough for a loaded CI machine, short enough to fail instead of hang.
LISTENING_SECONDS = 20.0


def post_id(post: Post) -> str:
    return encode_id("Post", post.id)


def call(server: LiveServer, query: str, authorization: str = "", **variables: Any) -> Any:
    """One operation over HTTP on the live server; the whole response body."""
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=60,
    )
    return response.json()


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body
    return body["data"]


def add_comment(
    server: LiveServer, authorization: str, post: Post, content: str, parent: str | None = None
) -> str:
    """A comment through the real `addComment`; its global id."""
    body = call(
        server, ADD_COMMENT, authorization, post=post_id(post), content=content, parent=parent
    )
    comment_id: str = data(body)["addComment"]["id"]
    return comment_id


async def listening(
    server: LiveServer, channel: str, count: int, within: float = LISTENING_SECONDS
) -> None:
    """Wait until `count` subscribers of `channel` on `server` will hear what comes next."""
    query = "query($c: String!) { listening(channel: $c) }"
    async with httpx.AsyncClient(timeout=30) as http:

        async def enough() -> bool:
            body = {"query": query, "variables": {"c": channel}}
            response = await http.post(f"{server.url}/graphql", json=body)
            return bool(response.json()["data"]["listening"] >= count)

        await eventually(
            enough, within=within, interval=0.05, what=f"{count} subscribers of {channel}"
        )


async def watch_post(
    socket: GraphQLSocket,
    server: LiveServer,
    post: Post,
    *,
    query: str = COMMENT_ADDED,
    op_id: str = "1",
    listeners: int = 1,
) -> None:
    """Subscribe to the post's comments and wait until the subscription is in place."""
    await socket.subscribe(op_id, query, post=post_id(post))
    await listening(server, post_channel(post.id), listeners)


def error_codes(message: dict[str, Any]) -> list[str]:
    """The codes of a subscription refused at subscribe time, in either protocol's shape."""
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
    return [error["extensions"]["code"] for error in errors]


async def receive_ending(socket: GraphQLSocket, op_id: str) -> list[str]:
    """The codes a subscription ends with: an `error` message (graphql-transport-ws), or a
    `next` carrying the errors followed by `complete` (legacy graphql-ws)."""
    message = await socket.receive()
    assert message["id"] == op_id, message
    if socket.protocol == TRANSPORT_WS:
        assert message["type"] == "error", message
    else:
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert await socket.receive() == {"type": "complete", "id": op_id}
    return error_codes(message)
