"""Helpers for the content tests: error codes and the GraphQL documents they send."""

from __future__ import annotations

from typing import Any

from blog_graphql.relay.ids import encode_id


def error_code(body: dict[str, Any]) -> str:
    """The code of the only error of a response."""
    assert len(body["errors"]) == 1, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def error_fields(body: dict[str, Any]) -> dict[str, str]:
    assert error_code(body) == "BAD_USER_INPUT", body
    fields: dict[str, str] = body["errors"][0]["extensions"]["fields"]
    return fields


def post_id(post) -> str:
    return encode_id("Post", post.id)


def comment_id(comment) -> str:
    return encode_id("Comment", comment.id)


POST_FIELDS = (
    "id title slug excerpt content contentHtml published publishedAt tags { name slug color }"
)
CREATE_POST = (
    f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST_FIELDS} }} }}"
)
UPDATE_POST = (
    f"mutation($id: ID!, $input: UpdatePostInput!) {{ updatePost(id: $id, input: $input) "
    f"{{ {POST_FIELDS} }} }}"
)
PUBLISH_POST = f"mutation($id: ID!) {{ publishPost(id: $id) {{ {POST_FIELDS} }} }}"
UNPUBLISH_POST = f"mutation($id: ID!) {{ unpublishPost(id: $id) {{ {POST_FIELDS} }} }}"
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) }"

COMMENT_FIELDS = "id content isApproved isDeleted author { username } parent { id }"
ADD_COMMENT = (
    f"mutation($input: AddCommentInput!) {{ addComment(input: $input) {{ {COMMENT_FIELDS} }} }}"
)
UPDATE_COMMENT = (
    f"mutation($id: ID!, $content: String!) {{ updateComment(id: $id, content: $content) "
    f"{{ {COMMENT_FIELDS} }} }}"
)
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
MODERATE_COMMENT = (
    f"mutation($id: ID!, $approved: Boolean!) {{ moderateComment(id: $id, approved: $approved) "
    f"{{ {COMMENT_FIELDS} }} }}"
)


# Every field of a user: to compare an author with the user as `user(username:)` shows it.
PERSON = """fragment Person on User {
  id username fullName bio isActive isAdmin emailVerified createdAt email }"""
USER = """query($u: String!) { user(username: $u) { ...Person } }""" + PERSON


async def users_as_shown(call, users, viewer=None) -> list[dict[str, Any]]:
    return [(await call(USER, {"u": user.username}, user=viewer))["data"]["user"] for user in users]
