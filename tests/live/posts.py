"""Driving the real post subscriptions on a live server: documents and helpers."""

from __future__ import annotations

from typing import Any

from blog_graphql.posts.events import PUBLISHED_CHANNEL, post_channel
from blog_graphql.posts.models import Post
from tests.live.clients import GraphQLSocket
from tests.live.comments import call, data, listening, post_id
from tests.live_server import LiveServer

POST_EVENTS = (
    "subscription($post: ID!) "
    "{ postEvents(postId: $post) { kind post { id title published commentCount } } }"
)
POST_PUBLISHED = "subscription { postPublished { id title published author { username } } }"
CREATE_POST = (
    "mutation($title: String!, $published: Boolean!) { createPost(input: "
    '{title: $title, content: "Some text.", published: $published}) { id } }'
)
UPDATE_POST = (
    "mutation($id: ID!, $title: String!) { updatePost(id: $id, input: {title: $title}) { id } }"
)
PUBLISH_POST = "mutation($id: ID!) { publishPost(id: $id) { published } }"


async def watch_post_events(
    socket: GraphQLSocket,
    server: LiveServer,
    post: Post,
    *,
    op_id: str = "1",
    listeners: int = 1,
) -> None:
    """Subscribe to the post's events and wait until the subscription is in place."""
    await socket.subscribe(op_id, POST_EVENTS, post=post_id(post))
    await listening(server, post_channel(post.id), listeners)


async def watch_publications(
    socket: GraphQLSocket, server: LiveServer, *, op_id: str = "p", listeners: int = 1
) -> None:
    await socket.subscribe(op_id, POST_PUBLISHED)
    await listening(server, PUBLISHED_CHANNEL, listeners)


async def next_event(socket: GraphQLSocket, op_id: str = "1") -> tuple[str, Any]:
    """The next post event of `op_id`: (kind, post or None)."""
    event = (await socket.next_data(op_id))["postEvents"]
    return event["kind"], event["post"]


def mutate(server: LiveServer, query: str, authorization: str, **variables: Any) -> Any:
    """A mutation that must succeed; its data."""
    return data(call(server, query, authorization, **variables))


def create_post(server: LiveServer, authorization: str, title: str, *, published: bool) -> str:
    """A post through the real `createPost`; its global id."""
    created = mutate(server, CREATE_POST, authorization, title=title, published=published)
    new_id: str = created["createPost"]["id"]
    return new_id
