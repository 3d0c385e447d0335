"""Attacks on who may see and change what: IDOR through every path, mass assignment, forged
tokens, brute force through aliases, and hostile values. Each gets its exact answer, changes
no row, and the server answers normally afterwards (see test_attacks for the table of what
other tests already cover)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hardening import attacks
from tests.hardening.attacks import attack, only_error

world = attacks.world


# IDOR: Eve reaches for Ada's draft, her pending comment and her content, by every path.
HIDDEN_READS = [
    ("post by slug", "query($v: String!) { post(slug: $v) { title } }", "post"),
    ("node of the draft", "query($v: ID!) { node(id: $v) { id } }", "node"),
    ("node of the pending comment", "query($v: ID!) { node(id: $v) { id } }", "node"),
]
HIDDEN_READ_IDS = {
    "post by slug": "draft",
    "node of the draft": "draft",
    "node of the pending comment": "pending",
}


@pytest.mark.parametrize(("name", "query", "field"), HIDDEN_READS, ids=[r[0] for r in HIDDEN_READS])
async def test_what_eve_may_not_see_does_not_exist_for_her(client, db, world, name, query, field):
    target = HIDDEN_READ_IDS[name]
    variables = {"v": world["draft"].slug if name == "post by slug" else world["ids"][target]}
    body = await attack(client, db, world["eve_headers"], query, variables)
    assert body == {"data": {field: None}}


LISTS = {
    "posts": '{ posts(filter: {author: "ada"}) { totalCount edges { node { title } } } }',
    "drafts filter": (
        "{ posts(filter: {published: false}) { totalCount edges { node { title } } } }"
    ),
    "User.posts": '{ user(username: "ada") { posts { totalCount edges { node { title } } } } }',
    "Tag.posts": "{ tags { posts { totalCount edges { node { title } } } } }",
    "search": '{ posts(filter: {search: "secret"}) { totalCount edges { node { title } } } }',
}
EXPECTED_TITLES = {
    "posts": ["Public"],
    "drafts filter": [],
    "User.posts": ["Public"],
    "Tag.posts": ["Public"],
    "search": [],
}


def connection_of(data: Any) -> dict[str, Any]:
    """The one connection in an answer, however deep it sits."""
    while "edges" not in data:
        data = next(iter(data.values())) if isinstance(data, dict) else data[0]
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", LISTS)
async def test_lists_and_counts_leave_the_draft_out(client, db, world, path):
    body = await attack(client, db, world["eve_headers"], LISTS[path], {})
    connection = connection_of(body["data"])
    titles = [edge["node"]["title"] for edge in connection["edges"]]
    assert titles == EXPECTED_TITLES[path]
    assert connection["totalCount"] == len(titles)


async def test_nested_comments_leave_the_pending_one_out(client, db, world):
    query = '{ post(slug: "public") { commentCount comments { edges { node { content } } } } }'
    body = await attack(client, db, world["eve_headers"], query, {})
    assert body == {
        "data": {
            "post": {"commentCount": 1, "comments": {"edges": [{"node": {"content": "mine"}}]}}
        }
    }


# Mutations on another's content: hidden is NOT_FOUND, visible but not hers is FORBIDDEN.
UPDATE_POST = 'mutation($v: ID!) { updatePost(id: $v, input: {title: "x"}) { id } }'
DELETE_POST = "mutation($v: ID!) { deletePost(id: $v) }"
ADD_COMMENT = 'mutation($v: ID!) { addComment(input: {postId: $v, content: "x"}) { id } }'
MODERATE = "mutation($v: ID!) { moderateComment(id: $v, approved: false) { id } }"
SET_ACTIVE = "mutation($v: ID!) { setUserActive(id: $v, active: false) { id } }"
UPDATE_COMMENT = 'mutation($v: ID!) { updateComment(id: $v, content: "x") { id } }'
DELETE_COMMENT = "mutation($v: ID!) { deleteComment(id: $v) }"
MUTATIONS = [
    ("updatePost", "draft", UPDATE_POST, "NOT_FOUND"),
    ("deletePost", "draft", DELETE_POST, "NOT_FOUND"),
    ("publishPost", "draft", "mutation($v: ID!) { publishPost(id: $v) { id } }", "NOT_FOUND"),
    ("updatePost", "post", UPDATE_POST, "FORBIDDEN"),
    ("deletePost", "post", DELETE_POST, "FORBIDDEN"),
    ("unpublishPost", "post", "mutation($v: ID!) { unpublishPost(id: $v) { id } }", "FORBIDDEN"),
    ("updateComment", "comment", UPDATE_COMMENT, "FORBIDDEN"),
    ("deleteComment", "comment", DELETE_COMMENT, "FORBIDDEN"),
    ("updateComment", "pending", UPDATE_COMMENT, "NOT_FOUND"),
    ("deleteComment", "pending", DELETE_COMMENT, "NOT_FOUND"),
    ("addComment", "draft", ADD_COMMENT, "NOT_FOUND"),
    ("moderateComment", "comment", MODERATE, "FORBIDDEN"),
    ("setUserActive", "ada", SET_ACTIVE, "FORBIDDEN"),
]


@pytest.mark.parametrize(
    ("target", "query", "code"),
    [m[1:] for m in MUTATIONS],
    ids=[f"{m[0]}-{m[1]}" for m in MUTATIONS],
)
async def test_eve_cannot_change_what_is_not_hers(client, db, world, target, query, code):
    body = await attack(client, db, world["eve_headers"], query, {"v": world["ids"][target]})
    assert body["data"] is None
    assert only_error(body)["code"] == code
