"""A small blog driven over GraphQL, and the bench-like reads compared with the truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.caching.conftest import Instance
from tests.factories import auth_headers, create_user

FEED = """query Feed { posts(first: 20) { totalCount edges { node {
  title slug excerpt publishedAt author { username fullName bio } tags { name slug }
  commentCount comments(first: 5) {
    totalCount edges { node { content author { username fullName } } } }
} } } }"""
POST_PAGE = """query PostPage($slug: String!) { post(slug: $slug) {
  title contentHtml published author { username fullName } tags { name slug } commentCount
  comments(first: 20) { edges { node { content isApproved author { username fullName }
    replies(first: 10) { edges { node { content author { username } } } } } } }
} }"""
TAG_PAGE = """query TagPage($tag: String!) { posts(first: 20, filter: { tag: $tag }) {
  totalCount edges { node { title slug author { username } tags { name } commentCount } } } }"""
TAGS = "query Tags { tags { name slug } }"
USER_PAGE = """query UserPage($username: String!) { user(username: $username) {
  username fullName bio posts(first: 10) { totalCount edges { node { title commentCount } } } } }"""
SEARCH = """query Search($search: String!) { posts(first: 10, filter: { search: $search }) {
  totalCount edges { node { title } } } }"""

TAG_NAMES = ("python", "rust", "go")


def reads(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every read a reader might make now: feed, tag pages, tags, users, posts, search."""
    found = [(FEED, {}), (TAGS, {}), (SEARCH, {"search": "python"}), (SEARCH, {"search": "zeta"})]
    found += [(TAG_PAGE, {"tag": tag}) for tag in TAG_NAMES]
    found += [(USER_PAGE, {"username": name}) for name in world.headers]
    found += [(POST_PAGE, {"slug": slug}) for slug in sorted(set(world.slugs.values()))]
    return found


@dataclass
class World:
    """Writers signed in on the writing instance; what they made, by handle."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    posts: dict[int, str] = field(default_factory=dict)  # handle -> global id
    slugs: dict[int, str] = field(default_factory=dict)  # handle -> slug (kept once gone)
    comments: dict[int, tuple[str, str]] = field(default_factory=dict)  # -> (id, author)

    @classmethod
    async def create(cls, db: Any, settings: Any) -> World:
        world = cls()
        for name, admin in (("ada", False), ("bob", False), ("root", True)):
            user = await create_user(db, username=name, full_name=name.title(), is_admin=admin)
            world.headers[name] = await auth_headers(db, settings, user)
        return world


async def run(instance: Instance, who: str, world: World, query: str, **variables: Any) -> Any:
    body = await instance.data(query, variables, headers=world.headers[who])
    assert "errors" not in body, body
    return body["data"]


async def assert_fresh(cached: Instance, reference: Instance, world: World) -> None:
    """Every read on `cached` (asked twice: a miss then a hit) equals the uncached truth."""
    for query, variables in reads(world):
        truth = (await reference.post(query, variables)).content
        for attempt in ("first", "again"):
            answer = await cached.post(query, variables)
            assert answer.content == truth, (attempt, query, variables, answer.text)


CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) { id slug } }"""
PUBLISH = "mutation($id: ID!) { publishPost(id: $id) { slug } }"
UNPUBLISH = "mutation($id: ID!) { unpublishPost(id: $id) { slug } }"
DELETE = "mutation($id: ID!) { deletePost(id: $id) }"
UPDATE = (
    "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { slug } }"
)
COMMENT = "mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"
EDIT_COMMENT = "mutation($id: ID!, $c: String!) { updateComment(id: $id, content: $c) { id } }"
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
MODERATE = "mutation($id: ID!, $a: Boolean!) { moderateComment(id: $id, approved: $a) { id } }"
UPDATE_ME = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { username } }"


async def create_post(
    writer: Instance, world: World, who: str, handle: int, *, tags: list[str], published: bool
) -> None:
    new = {"title": f"Post {handle} python", "content": f"Body {handle}", "tags": tags}
    made = (await run(writer, who, world, CREATE, input={**new, "published": published}))[
        "createPost"
    ]
    world.posts[handle] = made["id"]
    world.slugs[handle] = made["slug"]


async def publish(writer: Instance, world: World, who: str, handle: int) -> None:
    world.slugs[handle] = (await run(writer, who, world, PUBLISH, id=world.posts[handle]))[
        "publishPost"
    ]["slug"]


async def comment(
    writer: Instance, world: World, who: str, handle: int, post: int, parent: int | None = None
) -> None:
    given = {"postId": world.posts[post], "content": f"Comment {handle}"}
    if parent is not None:
        given["parentId"] = world.comments[parent][0]
    made = await run(writer, who, world, COMMENT, input=given)
    world.comments[handle] = (made["addComment"]["id"], who)
