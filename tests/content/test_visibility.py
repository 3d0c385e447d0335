"""One rule per type, through every path: drafts only to their author and admins, unapproved
comments only to their author and admins, comments of a draft only to who may see it."""

from dataclasses import dataclass
from typing import Any

import pytest

from blog_graphql.comments import service as comments_service
from blog_graphql.comments.events import NO_EVENTS
from blog_graphql.context import Context
from tests.content.helpers import comment_id, post_id
from tests.factories import create_comment, create_post, create_user

VIEWERS = ["anonymous", "bob", "ada", "admin"]


@dataclass
class World:
    users: dict[str, Any]
    post: object  # published, by ada
    draft: object  # by ada
    approved: object  # bob's approved comment on the post
    pending: object  # bob's unapproved comment on the post
    reply: object  # ada's approved reply to `approved`
    pending_reply: object  # bob's unapproved reply to `approved`
    draft_comment: object  # ada's comment on her draft
    draft_reply: object  # admin's reply on the draft


@pytest.fixture
async def world(db) -> World:
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    admin = await create_user(db, username="admin", is_admin=True)
    post = await create_post(db, author=ada, title="Zebra post", tags=["t"])
    draft = await create_post(db, author=ada, title="Zebra draft", tags=["t"], published=False)
    approved = await create_comment(db, post=post, author=bob, content="approved")
    pending = await create_comment(db, post=post, author=bob, content="pending", approved=False)
    reply = await create_comment(db, post=post, author=ada, content="reply", parent=approved)
    pending_reply = await create_comment(
        db, post=post, author=bob, content="pending reply", parent=approved, approved=False
    )
    draft_comment = await create_comment(db, post=draft, author=ada, content="draft comment")
    draft_reply = await create_comment(
        db, post=draft, author=admin, content="draft reply", parent=draft_comment
    )
    users = {"anonymous": None, "bob": bob, "ada": ada, "admin": admin}
    return World(users, post, draft, approved, pending, reply, pending_reply, draft_comment,
                 draft_reply)  # fmt: skip


# What each viewer sees of the post's thread: (top-level comments, replies to `approved`).
THREAD = {
    "anonymous": (["approved"], ["reply"]),
    "bob": (["approved", "pending"], ["reply", "pending reply"]),
    "ada": (["approved"], ["reply"]),
    "admin": (["approved", "pending"], ["reply", "pending reply"]),
}
SEES_DRAFT = {"anonymous": False, "bob": False, "ada": True, "admin": True}


def titles(connection) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


def contents(connection) -> list[str]:
    return [edge["node"]["content"] for edge in connection["edges"]]


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_post_by_slug(call, world, viewer):
    query = "query($s: String!) { post(slug: $s) { title } }"
    user = world.users[viewer]
    assert (await call(query, {"s": world.post.slug}, user=user))["data"]["post"]
    draft = (await call(query, {"s": world.draft.slug}, user=user))["data"]["post"]
    assert (draft is not None) == SEES_DRAFT[viewer]


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_posts_and_their_total_count(call, world, viewer):
    query = "{ posts { totalCount edges { node { title } } } }"
    posts = (await call(query, user=world.users[viewer]))["data"]["posts"]
    expected = ["Zebra draft", "Zebra post"] if SEES_DRAFT[viewer] else ["Zebra post"]
    assert titles(posts) == expected and posts["totalCount"] == len(expected)


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_search_results(call, world, viewer):
    query = '{ posts(filter: {search: "zebra"}) { totalCount edges { node { title } } } }'
    posts = (await call(query, user=world.users[viewer]))["data"]["posts"]
    expected = 2 if SEES_DRAFT[viewer] else 1
    assert len(posts["edges"]) == posts["totalCount"] == expected


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_drafts_filter(call, world, viewer):
    query = "{ posts(filter: {published: false}) { totalCount edges { node { title } } } }"
    posts = (await call(query, user=world.users[viewer]))["data"]["posts"]
    assert titles(posts) == (["Zebra draft"] if SEES_DRAFT[viewer] else [])


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_user_posts(call, world, viewer):
    query = '{ user(username: "ada") { posts { totalCount edges { node { title } } } } }'
    posts = (await call(query, user=world.users[viewer]))["data"]["user"]["posts"]
    expected = ["Zebra draft", "Zebra post"] if SEES_DRAFT[viewer] else ["Zebra post"]
    assert titles(posts) == expected and posts["totalCount"] == len(expected)


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_tag_posts(call, world, viewer):
    query = "{ tags { posts { totalCount edges { node { title } } } } }"
    posts = (await call(query, user=world.users[viewer]))["data"]["tags"][0]["posts"]
    expected = ["Zebra draft", "Zebra post"] if SEES_DRAFT[viewer] else ["Zebra post"]
    assert titles(posts) == expected and posts["totalCount"] == len(expected)


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_node_for_posts_and_comments(call, world, viewer):
    query = "query($id: ID!) { node(id: $id) { id } }"
    user = world.users[viewer]
    top, replies = THREAD[viewer]

    async def visible(global_id: str) -> bool:
        return (await call(query, {"id": global_id}, user=user))["data"]["node"] is not None

    assert await visible(post_id(world.post))
    assert await visible(post_id(world.draft)) == SEES_DRAFT[viewer]
    assert await visible(comment_id(world.approved))
    assert await visible(comment_id(world.pending)) == ("pending" in top)
    assert await visible(comment_id(world.pending_reply)) == ("pending reply" in replies)
    assert await visible(comment_id(world.draft_comment)) == SEES_DRAFT[viewer]
    assert await visible(comment_id(world.draft_reply)) == SEES_DRAFT[viewer]


THREAD_QUERY = """query($s: String!) { post(slug: $s) {
  commentCount
  comments { totalCount edges { node { content
    replies { totalCount edges { node { content parent { content } post { title } } } } } } }
} }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_post_comments_replies_and_counts(call, world, viewer):
    post = (await call(THREAD_QUERY, {"s": world.post.slug}, user=world.users[viewer]))["data"]
    top, replies = THREAD[viewer]
    comments = post["post"]["comments"]
    assert contents(comments) == top and comments["totalCount"] == len(top)
    thread = comments["edges"][0]["node"]["replies"]
    assert contents(thread) == replies and thread["totalCount"] == len(replies)
    assert thread["edges"][0]["node"]["parent"] == {"content": "approved"}
    assert thread["edges"][0]["node"]["post"] == {"title": "Zebra post"}
    assert post["post"]["commentCount"] == len(top) + len(replies)


@pytest.mark.parametrize("viewer", ["ada", "admin"])
async def test_comments_of_a_draft_to_those_who_see_it(call, world, viewer):
    body = await call(THREAD_QUERY, {"s": world.draft.slug}, user=world.users[viewer])
    comments = body["data"]["post"]["comments"]
    assert contents(comments) == ["draft comment"]
    assert contents(comments["edges"][0]["node"]["replies"]) == ["draft reply"]
    assert body["data"]["post"]["commentCount"] == 2


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_the_parent_of_a_reply_is_null_once_hidden_from_the_viewer(call, db, world, viewer):
    await comments_service.moderate_comment(
        db, world.users["admin"], world.approved.id, approved=False, events=NO_EVENTS
    )
    query = "query($id: ID!) { node(id: $id) { ... on Comment { parent { content } } } }"
    body = await call(query, {"id": comment_id(world.reply)}, user=world.users[viewer])
    sees_hidden = viewer in ("bob", "admin")  # its author and admins
    assert body["data"]["node"]["parent"] == ({"content": "approved"} if sees_hidden else None)


async def test_loaders_follow_a_viewer_who_signs_in_later(app_state, world):
    # A WebSocket connects anonymously and signs in with its first message.
    context = Context.create(app_state)
    assert await context.loaders.post.load(world.draft.id) is None
    context.use_viewer(world.users["ada"])
    draft = await context.loaders.post.load(world.draft.id)
    assert draft is not None and draft.title == "Zebra draft"
    assert await context.loaders.user.load(world.users["ada"].id) is world.users["ada"]


async def test_a_request_builds_only_the_loaders_it_uses(app_state, world):
    # `{ __typename }` needs none: building all of them cost more than the rest of it.
    context = Context.create(app_state, viewer=world.users["ada"])
    assert not [name for name in vars(context.loaders) if name not in ("db", "viewer")]
    assert await context.loaders.user.load(world.users["ada"].id) is world.users["ada"]
    assert context.loaders.user is context.loaders.user  # one per request, kept once built
    assert [name for name in vars(context.loaders) if name not in ("db", "viewer")] == ["user"]
