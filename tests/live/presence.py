"""Driving `threadPresence` and `setTyping` on live servers: documents and helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blog_graphql.posts.models import Post
from tests.live.clients import GraphQLSocket
from tests.live.comments import call, post_id
from tests.live_server import LiveServer

THREAD_PRESENCE = (
    "subscription($post: ID!) { threadPresence(postId: $post) { readers typing { username } } }"
)
SET_TYPING = "mutation($post: ID!, $typing: Boolean!) { setTyping(postId: $post, typing: $typing) }"

Presence = tuple[int, list[str]]  # readers, who types


def as_presence(data: dict[str, Any]) -> Presence:
    presence = data["threadPresence"]
    return presence["readers"], [user["username"] for user in presence["typing"]]


async def watch_presence(socket: GraphQLSocket, post: Post, op_id: str = "p") -> Presence:
    """Subscribe; the first state, which counts this socket."""
    await socket.subscribe(op_id, THREAD_PRESENCE, post=post_id(post))
    return as_presence(await socket.next_data(op_id))


async def presence_until(
    socket: GraphQLSocket, wanted: Presence | Callable[[Presence], bool], op_id: str = "p"
) -> list[Presence]:
    """Every state received until `wanted` (a state, or a test of one); all of them."""
    seen: list[Presence] = []
    test = wanted if callable(wanted) else wanted.__eq__
    while not seen or not test(seen[-1]):
        seen.append(as_presence(await socket.next_data(op_id)))
    return seen


def set_typing(server: LiveServer, authorization: str, post: Post, typing: bool = True) -> Any:
    """The whole response of `setTyping` on `server`."""
    return call(server, SET_TYPING, authorization, post=post_id(post), typing=typing)
